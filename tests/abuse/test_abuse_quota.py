"""Audit finding 3: quota keyed on who calls, never on the project name the caller picks.

Before: with auth off, a new project name per request bypassed the quota (60/60 admitted at 20/min);
with keys, one key could spend a whole project's budget for every other key.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.abuse.abuse_helpers import ONE_WORD, assert_google_error

pytestmark = pytest.mark.slow  # hostile clients against a real server: timeouts to wait out


def project_path(project: str) -> str:
    return f"/v1/projects/{project}/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens"


def test_new_project_names_do_not_buy_quota(live: Any) -> None:
    server = live(quota_rpm=20)
    with server.client() as client:
        codes = [client.post(project_path(f"project-{i}"), json=ONE_WORD).status_code for i in range(60)]
    assert codes.count(200) == 20
    assert codes.count(429) == 40


def test_one_key_cannot_starve_another(live: Any) -> None:
    server = live(quota_rpm=5, api_keys=("greedy-key", "polite-key"))
    with server.client() as client:
        greedy = [
            client.post(project_path("shared"), json=ONE_WORD, headers={"x-goog-api-key": "greedy-key"}).status_code
            for _ in range(8)
        ]
        assert greedy.count(200) == 5
        polite = client.post(project_path("shared"), json=ONE_WORD, headers={"x-goog-api-key": "polite-key"})
        assert polite.status_code == 200
        spent = client.post(project_path("other"), json=ONE_WORD, headers={"x-goog-api-key": "greedy-key"})
        assert_google_error(spent, 429, "RESOURCE_EXHAUSTED")
