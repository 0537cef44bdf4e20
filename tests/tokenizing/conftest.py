from __future__ import annotations

from typing import Any

import pytest

from tests.tokenizing.core_helpers import FAMILIES, IMPLEMENTATIONS, Family, family


@pytest.fixture(params=sorted(FAMILIES))
def fam(request: pytest.FixtureRequest) -> Family:
    return family(request.param)


@pytest.fixture(params=IMPLEMENTATIONS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def impl(request: pytest.FixtureRequest) -> Any:
    return request.param
