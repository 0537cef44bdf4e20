"""A bounded schemathesis run against the server's own OpenAPI schema, over real HTTP on loopback:
no 5xx, every status code, content type, header and body as documented.

Not checked: that every schema-violating request is refused (negative_data_rejection). Like Google's
parser, the server takes a single item where the schema shows a list; describing that in the schema
makes generation many times slower, and the parser's own refusals are tested in test_server_routes.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.schema_checks import CHECKS
from tests.server.server_helpers import RunningServer

pytestmark = pytest.mark.slow  # a schemathesis run over every route (~1 min)


@pytest.fixture(scope="module")
def api_schema(open_server: RunningServer) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(open_server.base_url + "/openapi.json")
    # The coverage phase alone sends ~20,000 requests (it enumerates every boundary of every field):
    # minutes on 2 cores. Examples (the documented ones) and bounded random fuzzing keep this under a minute.
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


# The web batch route's JSONL bodies need their own strategy: tests/abuse/test_abuse_schemathesis.py fuzzes it.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(operation_id="web_batch")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
