from __future__ import annotations

from typing import Any

import pytest

from tests.batch.batch_helpers import distinct_requests


@pytest.fixture(scope="session")
def requests_pool() -> list[dict[str, Any]]:
    return distinct_requests(40)
