"""API keys: `x-goog-api-key`, `?key=` or `Authorization: Bearer`, compared in constant time.

No credential at all is 401 UNAUTHENTICATED; a credential that matches no key is 403
PERMISSION_DENIED. Keys are never logged; a caller is known by a short hash of its key only.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.requests import Request

from vertexmeter.server.access import QUERY_KEY
from vertexmeter.server.errors import MISSING_CREDENTIALS, PERMISSION_DENIED, canonical, error_info


@dataclass(frozen=True)
class Caller:
    """Who is calling: `key_id` is a short hash of the credential (its quota budget), None when auth is off."""

    key_id: str | None


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


def presented_credential(request: Request) -> str | None:
    header = request.headers.get("x-goog-api-key")
    if header:
        return header.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    query = request.scope.get(QUERY_KEY)  # `?key=`, taken out of the query string by the access middleware
    return query.strip() if isinstance(query, str) and query.strip() else None


class KeyChecker:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = tuple(k.encode("utf-8") for k in keys)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def matches(self, credential: str) -> bool:
        """Compare against every key (no early exit) so timing says nothing about which one matched."""
        given = credential.encode("utf-8")
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(given, key)
        return found

    def check(self, request: Request) -> Caller:
        if not self.enabled:
            return Caller(None)  # any credential is accepted and none tells callers apart
        credential = presented_credential(request)
        if not credential:
            raise canonical("UNAUTHENTICATED", MISSING_CREDENTIALS, [error_info("CREDENTIALS_MISSING")])
        if not self.matches(credential):
            raise canonical("PERMISSION_DENIED", PERMISSION_DENIED, [error_info("API_KEY_INVALID")])
        return Caller(key_id(credential))
