"""The schemathesis checks every fuzz run of the server's OpenAPI document applies (tests/server, tests/abuse)."""

from __future__ import annotations

from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]
