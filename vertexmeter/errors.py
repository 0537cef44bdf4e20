"""Errors in Google's shape: a canonical status, an English message and the offending field paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# google/rpc/code.proto: canonical status -> HTTP status.
HTTP_CODES: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INTERNAL": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


@dataclass
class FieldViolation:
    field: str
    description: str


@dataclass
class VertexMeterError(Exception):
    """Any refusal of vertexmeter: carries Google's status name, message and field violations."""

    status: str
    message: str
    violations: list[FieldViolation] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in HTTP_CODES:
            raise ValueError(f"unknown status {self.status!r}")
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through their args; a dataclass exception needs its fields instead
        # (worker processes send refusals back to the server).
        return (type(self), (self.status, self.message, self.violations))

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"

    @property
    def code(self) -> int:
        return HTTP_CODES[self.status]

    @property
    def field_path(self) -> str | None:
        return self.violations[0].field if self.violations else None

    def to_json(self) -> dict[str, Any]:
        """The body Google's front end sends: {"error": {"code", "message", "status", "details"}}."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.violations:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": v.field, "description": v.description} for v in self.violations],
                }
            ]
        else:
            error["details"] = []
        return {"error": error}


def invalid_argument(message: str, field_path: str | None = None, description: str | None = None) -> VertexMeterError:
    violations = [FieldViolation(field_path, description or message)] if field_path else []
    return VertexMeterError("INVALID_ARGUMENT", message, violations)


def not_found(message: str) -> VertexMeterError:
    return VertexMeterError("NOT_FOUND", message)


def failed_precondition(message: str, field_path: str | None = None) -> VertexMeterError:
    violations = [FieldViolation(field_path, message)] if field_path else []
    return VertexMeterError("FAILED_PRECONDITION", message, violations)
