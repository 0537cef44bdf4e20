"""schemathesis against the web batch route (`POST /web/api/batch`) as the OpenAPI document describes it,
on a real server on loopback: no 5xx, and every status code, content type and header as documented.

Bounded for CI (each accepted upload starts a batch process: ~0.3 s); `bench/schemathesis_full.py` runs
every operation with >= 20,000 cases. One case at a time: the route admits `large_workers` jobs at once and
answers more with 503 by design, which this check would count as a server error.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.abuse import batch_fuzz  # registers the application/jsonl body strategy and the stream check
from tests.abuse.abuse_helpers import LiveServer, assert_google_error, start_live
from tests.schema_checks import CHECKS as SCHEMA_CHECKS
from vertexmeter.server import ServerConfig

pytestmark = pytest.mark.slow  # a schemathesis run against a real server (~30 s on an idle 2-core machine)

CHECKS = [*SCHEMA_CHECKS, batch_fuzz.batch_stream_ends_well]


@pytest.fixture(autouse=True)
def heavy_counting() -> None:
    """The counting core, not the suite's slow reference engines: nothing here needs a busy worker."""


@pytest.fixture(scope="module")
def batch_server() -> Iterator[LiveServer]:
    server = start_live(ServerConfig(workers=2, quota_rpm=0, shutdown_timeout=1))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_schema(batch_server: LiveServer) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(batch_server.base_url + "/openapi.json")
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema").include(operation_id="web_batch")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_web_batch_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


# ---- what the fuzzer found, each pinned ------------------------------------------------------------
LINE = b'{"request": {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}}\n'


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "\uff11", "1.5", "-1", " 1"])
def test_output_tokens_other_than_ascii_digits_are_a_400(batch_server: LiveServer, value: str) -> None:
    """ "²".isdigit() is true but int("²") raises: the route answered 500 INTERNAL before."""
    with batch_server.client() as http:
        response = http.post(
            "/web/api/batch", params={"model": "gemini-2.5-flash", "outputTokens": value}, content=LINE
        )
    assert_google_error(response, 400, "INVALID_ARGUMENT")
    assert "outputTokens" in response.json()["error"]["message"]


def test_a_finished_batch_job_frees_its_place_before_its_answer_ends(batch_server: LiveServer) -> None:
    """Uploads one after another got a 503 "too many batch jobs" now and then: the place was freed only
    after the answer's last chunk, so the next upload could arrive first (the full run's one 5xx)."""
    with batch_server.client() as http:
        for _ in range(6):
            response = http.post("/web/api/batch", params={"model": "gemini-2.5-flash"}, content=LINE)
            assert response.status_code == 200, response.text[:300]
            assert "summary" in response.text.splitlines()[-1]
            assert batch_server.state().batch_jobs == 0
