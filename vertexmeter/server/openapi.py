"""The OpenAPI description: request schemas generated from the core's message table, so the documented
bodies are exactly the ones the parser accepts (camelCase names shown; snake_case is accepted too).
"""

from __future__ import annotations

from typing import Any

from vertexmeter.counting import INTERACTIONS_USAGE_FIELDS
from vertexmeter.requests import ALL_ENUMS, INTERACTIONS_REQUEST_FIELDS, MESSAGES, NUMBERED_ENUMS, Field
from vertexmeter.server.estimating import ESTIMATE_OPTIONS
from vertexmeter.vocabulary import APIS, MODES
from vertexmeter.web import BATCH_PARAMETERS

REF = "#/components/schemas/"
_INT_STRING = r"^-?[0-9]+$"
_BASE64 = r"^[A-Za-z0-9+/_-]*={0,2}$"
_DURATION = r"^-?[0-9]+(\.[0-9]{1,9})?s$"


def _kind_schema(kind: str) -> dict[str, Any]:
    if kind in MESSAGES:
        return {"$ref": REF + kind}
    if kind.startswith("map:"):
        return {"type": "object", "additionalProperties": {"$ref": REF + kind[4:]}}
    if kind.startswith("enum:"):
        return _enum_schema(kind[5:])
    simple: dict[str, dict[str, Any]] = {
        "string": {"type": "string"},
        "bool": {"type": "boolean"},
        "int32": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
        "int64": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": _INT_STRING}]},
        "double": {"type": "number"},
        "bytes": {"type": "string", "format": "byte", "pattern": _BASE64},
        "duration": {"type": "string", "pattern": _DURATION},
        "struct": {"type": "object"},
        "value": {},
    }
    return dict(simple[kind])


def _enum_schema(enum: str) -> dict[str, Any]:
    """Enum names (upper or lower case), or numbers (proto3 JSON: any int32 where the numbering is per API)."""
    names = list(ALL_ENUMS[enum])
    names += [n.lower() for n in names if n.lower() != n]
    if enum in NUMBERED_ENUMS:
        number = {"type": "integer", "minimum": 0, "maximum": len(ALL_ENUMS[enum]) - 1}
    else:
        number = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
    return {"anyOf": [{"type": "string", "enum": names}, number]}


def _field_schema(spec: Field) -> dict[str, Any]:
    """proto3 JSON: `null` is the field's default, so every field also takes null. (Google's parser, and
    ours, also take a single item where a list is expected; the schema shows the canonical list.)"""
    item = _kind_schema(spec.kind)
    if spec.kind == "value":
        return item  # any JSON value, null included
    schema = {"type": "array", "items": item} if spec.repeated else item
    return {"anyOf": [schema, {"type": "null"}]}


def request_schemas() -> dict[str, Any]:
    """One JSON Schema per message of the core parser, unknown keys refused as the parser does."""
    return {
        name: {
            "type": "object",
            "properties": {json_name: _field_schema(spec) for json_name, spec in fields.items()},
            "additionalProperties": False,
        }
        for name, fields in MESSAGES.items()
    }


_MODALITY_COUNT = {
    "type": "object",
    "properties": {
        "modality": {"type": "string", "enum": list(ALL_ENUMS["Modality"])},
        "tokenCount": {"type": "integer"},
    },
    "additionalProperties": False,
}


def _count_response(*extra: str) -> dict[str, Any]:
    """countTokens answers: totalTokens and promptTokensDetails, plus each API's own fields."""
    details = {"type": "array", "items": {"$ref": REF + "ModalityTokenCount"}}
    fields = ("totalTokens", "promptTokensDetails", *extra)
    return {
        "type": "object",
        "description": "Zero-valued fields are omitted (proto3 JSON): an empty count is `{}`.",
        "properties": {f: details if f.endswith("Details") else {"type": "integer"} for f in fields},
        "additionalProperties": False,
    }


RESPONSE_SCHEMAS: dict[str, Any] = {
    "VertexCountTokensResponse": _count_response("totalBillableCharacters"),
    "GeminiCountTokensResponse": _count_response("cachedContentTokenCount", "cacheTokensDetails"),
    "ComputeTokensResponse": {
        "type": "object",
        "properties": {
            "tokensInfo": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "tokens": {"type": "array", "items": {"type": "string", "format": "byte"}},
                        "tokenIds": {"type": "array", "items": {"type": "string", "pattern": _INT_STRING}},
                        "role": {"type": "string"},
                    },
                    "required": ["tokens", "tokenIds"],
                    "additionalProperties": False,
                },
            }
        },
        "additionalProperties": False,
    },
    "ModalityTokenCount": _MODALITY_COUNT,
    "Status": {
        "type": "object",
        "description": "google.rpc.Status as Google's REST front end sends it.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "status": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object"}},
                },
                "required": ["code", "message", "status", "details"],
                "additionalProperties": False,
            }
        },
        "required": ["error"],
        "additionalProperties": False,
    },
}

_ERRORS = {
    "400": "INVALID_ARGUMENT: malformed JSON, unknown field, bad value (field path in details).",
    "401": "UNAUTHENTICATED: keys are configured and the request carries no credential.",
    "403": "PERMISSION_DENIED: the credential matches no configured key.",
    "404": "NOT_FOUND: unknown model (Google's message) or unknown path.",
    "413": "The body exceeds the server's size limit (`max_body_bytes`).",
    "429": "RESOURCE_EXHAUSTED: the per-project / per-key budget is spent; see Retry-After.",
}
# Documented where a route names them (the web batch route): not part of every RPC's default list.
_MORE_ERRORS = {
    "408": "DEADLINE_EXCEEDED: the body was not received within the body timeouts.",
    "503": "UNAVAILABLE: every batch job place is taken (before the body is read), or the server is shutting "
    "down; see Retry-After.",
    "504": "DEADLINE_EXCEEDED: the job did not start answering within the request deadline.",
}

JSON = "application/json"


def error_responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes or tuple(_ERRORS):
        entry: dict[str, Any] = {
            "description": _ERRORS.get(code) or _MORE_ERRORS[code],
            "content": {JSON: {"schema": {"$ref": REF + "Status"}}},
        }
        if code in ("429", "503"):
            entry["headers"] = {
                "Retry-After": {"description": "Seconds until a request may succeed.", "schema": {"type": "string"}}
            }
        out[code] = entry
    return out


def ok_response(schema: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {JSON: {"schema": {"$ref": REF + schema}}}}}


def body_spec(schema: str, examples: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": False,
            "content": {
                JSON: {
                    "schema": {"$ref": REF + schema},
                    "examples": {name: {"value": value} for name, value in examples.items()},
                }
            },
        }
    }


def path_parameter(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": r"^[^/]+$"},
        "example": example,
    }


_HISTORY: dict[str, Any] = {
    "type": "array",
    "description": "The conversation's earlier generateContent responses (each a GenerateContentResponse or a list "
    "of a streamed response's chunks): the thoughts their signatures carry, when the request replays them.",
    "items": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
}
_STREAMED: dict[str, Any] = {
    "type": "boolean",
    "description": "The conversation's answers came from streamGenerateContent (true) or generateContent (false): "
    "a response given joined then carries a stream's bounds, and it decides which replayed 2.5 thought signatures "
    "bill. Not given: the signatures' segments tell.",
}
# Present only on a count that cannot be exact offline (e.g. replayed thought signatures without history).
_BOUNDS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "promptTokenCount": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        "candidatesTokenCount": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        "thoughtsTokenCount": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        "totalTokenCount": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        "rawPromptTokenCount": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        "reason": {"type": "string"},
    },
    "additionalProperties": False,
}


def usage_request_schema(requests: dict[str, Any], base_name: str) -> dict[str, Any]:
    """A generateContent body plus vertexmeter's `usageOptions` (the response to count, the date, the cache size)."""
    base = requests[base_name]
    return {
        "type": "object",
        "description": "A generateContent body; the answer is the usageMetadata generateContent would report.",
        "properties": {
            **base["properties"],
            "usageOptions": {
                "type": "object",
                "properties": {
                    "response": {"description": "The candidate's text, a Content or a GenerateContentResponse"},
                    "asOf": {"type": "string", "description": "YYYY-MM-DD: count with the rules of that day"},
                    "cachedContentTokens": {"type": "integer", "minimum": 0},
                    "history": _HISTORY,
                    "streamed": _STREAMED,
                    "explain": {"type": "boolean", "description": "Add `rules`: the counting rules applied."},
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }


USAGE_RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "usageMetadata": {
            "type": "object",
            "properties": {
                **{
                    f: {"type": "integer"}
                    for f in (
                        "promptTokenCount",
                        "candidatesTokenCount",
                        "cachedContentTokenCount",
                        "totalTokenCount",
                        "thoughtsTokenCount",
                        "rawPromptTokenCount",
                    )
                },
                **{
                    f: {"type": "array", "items": {"$ref": REF + "ModalityTokenCount"}}
                    for f in ("promptTokensDetails", "cacheTokensDetails", "candidatesTokensDetails")
                },
                "trafficType": {"type": "string"},
                "serviceTier": {"type": "string"},
                "bounds": _BOUNDS,
                "rules": {"type": "array", "items": {"type": "object"}},
            },
            "additionalProperties": False,
        },
        "modelVersion": {"type": "string"},
    },
    "required": ["usageMetadata", "modelVersion"],
    "additionalProperties": False,
}


_ANY: dict[str, Any] = {}
_INTERACTIONS_HISTORY: dict[str, Any] = {
    "type": "array",
    "description": "The conversation's earlier interactions' answers (their JSON, with `steps` and `usage`): the "
    "thoughts the signatures replayed in `input` stand for, billed exactly from their total_thought_tokens.",
    "items": {"type": "object"},
}
# The Interactions request's fields (google-genai's CreateModelInteraction, as requests/interactions.py reads it).
INTERACTIONS_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "A Gemini Interactions API body, as `POST /v1beta/interactions` takes it, plus vertexmeter's "
    "`usageOptions`; the answer is the `usage` the interaction's answer would report.",
    "properties": {
        "model": {"type": "string"},
        "input": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}, {"type": "object"}]},
        "system_instruction": {"type": "string"},
        "tools": {"type": "array", "items": {"type": "object"}},
        "generation_config": {"type": "object"},
        "previous_interaction_id": {
            "type": "string",
            "description": "Refused (FAILED_PRECONDITION): the history it names is kept on Google's server; "
            "replay it in `input` instead.",
        },
        # the other fields the converter reads (requests.INTERACTIONS_REQUEST_FIELDS)
        **{
            name: _ANY
            for name in INTERACTIONS_REQUEST_FIELDS
            if name
            not in ("model", "input", "system_instruction", "tools", "generation_config", "previous_interaction_id")
        },
        "usageOptions": {
            "type": "object",
            "properties": {
                "response": {"type": "object", "description": "The interaction's own answer (its JSON, with `steps`)."},
                "history": _INTERACTIONS_HISTORY,
                "asOf": {"type": "string", "description": "YYYY-MM-DD: count with the rules of that day"},
            },
            "additionalProperties": False,
        },
    },
    "required": ["model", "input"],
    "additionalProperties": False,
}
_PAIR: dict[str, Any] = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}
INTERACTIONS_RESPONSE: dict[str, Any] = {
    "type": "object",
    "description": "The Interactions API's `usage`; `bounds` (not Google's) only on a count that cannot be exact "
    "offline, with its reason.",
    "properties": {
        **{name: {"type": "integer"} for name in INTERACTIONS_USAGE_FIELDS},
        "input_tokens_by_modality": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"modality": {"type": "string"}, "tokens": {"type": "integer"}},
                "required": ["modality", "tokens"],
            },
        },
        "raw_prompt_token": {"type": "integer"},
        "service_tier": {"type": "string"},
        "bounds": {
            "type": "object",
            "properties": {**{name: _PAIR for name in INTERACTIONS_USAGE_FIELDS}, "reason": {"type": "string"}},
            "additionalProperties": False,
        },
    },
    "required": [*INTERACTIONS_USAGE_FIELDS, "input_tokens_by_modality"],
    "additionalProperties": False,
}


def estimate_request_schema(requests: dict[str, Any], base_name: str = "VertexCountTokensRequest") -> dict[str, Any]:
    """A countTokens or generateContent body plus `estimateOptions`."""
    base = requests[base_name]
    whole = {"type": "integer", "minimum": 0}
    return {
        "type": "object",
        "description": "A countTokens or generateContent body, plus how to price it. Without outputTokens / "
        "outputCharacters the answer is a range from no output to generationConfig.maxOutputTokens "
        "(else the model's output limit).",
        "properties": {
            **base["properties"],
            **{name: {} for name in ("safetySettings", "toolConfig", "labels", "modelArmorConfig", "cachedContent")},
            "estimateOptions": {
                "type": "object",
                "properties": {
                    name: whole
                    if takes == "count"
                    else _HISTORY
                    if name == "history"
                    else _STREAMED
                    if name == "streamed"
                    else {"type": "string", "description": takes}
                    for name, takes in ESTIMATE_OPTIONS.items()
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }


ESTIMATE_RESPONSE = {
    "type": "object",
    "description": "Money as decimal strings in USD; `total` is a string, or {min, max} when the output size "
    "was not given. Each line item names the catalogue entry (price, source, effective date) behind it.",
    "properties": {
        "model": {"type": "string"},
        "date": {"type": "string"},
        "mode": {"type": "string"},
        "api": {"type": "string", "enum": list(APIS)},
        "currency": {"type": "string"},
        "prompt": {"type": "object"},
        "output": {"type": "object"},
        "total": {
            "anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"min": {"type": "string"}, "max": {"type": "string"}}},
            ]
        },
        "lineItems": {"type": "array", "items": {"type": "object"}},
        "catalogue_entries": {"type": "array", "items": {"type": "object"}},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["model", "currency", "prompt", "total"],
}


def all_component_schemas() -> dict[str, Any]:
    requests = request_schemas()
    return {
        **requests,
        "EstimateCostRequest": estimate_request_schema(requests),
        "GeminiEstimateCostRequest": estimate_request_schema(requests, "GenerateContentRequest"),
        "UsageMetadataRequest": usage_request_schema(requests, "VertexGenerateContentRequest"),
        "GeminiUsageMetadataRequest": usage_request_schema(requests, "GenerateContentRequest"),
        **RESPONSE_SCHEMAS,
        "EstimateCostResponse": ESTIMATE_RESPONSE,
        "UsageMetadataResponse": USAGE_RESPONSE,
        "InteractionsUsageRequest": INTERACTIONS_REQUEST,
        "InteractionsUsageResponse": INTERACTIONS_RESPONSE,
        "WebBatchLine": web_batch_line_schema(),
    }


# ---- the web page's batch route -------------------------------------------------------------------
WEB_BATCH_PATH = "/web/api/batch"
JSONL = "application/jsonl"
NDJSON = "application/x-ndjson"

_BATCH_QUERY: dict[str, tuple[dict[str, Any], str]] = {
    "model": ({"type": "string"}, "The model of lines that name none (any registry spelling)."),
    "api": ({"type": "string", "enum": list(APIS)}, "Whose bill: Vertex AI (default) or the Gemini API."),
    "mode": ({"type": "string", "enum": list(MODES)}, "The serving mode priced (default `batch`)."),
    "date": ({"type": "string", "format": "date"}, "YYYY-MM-DD: the prices and counting rules of that day."),
    "outputTokens": ({"type": "integer", "minimum": 0}, "Expected output tokens per line (digits only)."),
    "name": ({"type": "string"}, "The input's name in the summary (default `upload.jsonl`)."),
}
_BATCH_BODY = (
    "The batch file itself, JSON Lines: one `WebBatchLine` per line, any format `vertexmeter batch` reads. "
    "Blank lines are skipped; a line that is not JSON, or not a request, is a refused line in the summary, "
    "never a refused upload. The body is read as JSONL whatever its Content-Type (the web page sends "
    "`application/jsonl`). A one-line file: "
    '`{"request": {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}}`.'
)


def web_batch_line_schema() -> dict[str, Any]:
    """One line of a batch file (docs/batch.md, "Input formats"): documentation, the engine checks each line."""
    request = {"$ref": REF + "VertexGenerateContentRequest"}
    return {
        "description": "One line of a batch file: a Vertex AI batch prediction line, a Gemini API Batch line, a "
        "bare request body, or a legacy `:predict` instance.",
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "request": request,
                    "key": {"type": "string"},
                    "custom_id": {"type": "string"},
                    "config": {"type": "object", "description": "google-genai's GenerateContentConfig"},
                    "history": _HISTORY,
                },
                "required": ["request"],
                "description": "`request` with its id (`key`, `custom_id`) or other fields, kept in the results.",
            },
            request,
            {"type": "object", "description": 'A legacy model\'s `:predict` instance, e.g. `{"prompt": "…"}`.'},
        ],
    }


def web_batch_paths() -> dict[str, Any]:
    """`POST /web/api/batch` as the route serves it (vertexmeter.web): query options, a JSONL body, NDJSON."""
    parameters = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": _BATCH_QUERY[name][1],
            "schema": _BATCH_QUERY[name][0],
        }
        for name in BATCH_PARAMETERS
    ]
    body_schema = {"type": "string", "format": "binary", "description": _BATCH_BODY}
    operation = {
        "tags": ["web"],
        "summary": "Count and price a batch JSONL file (the web page's batch panel)",
        "operationId": "web_batch",
        "description": "Runs the batch engine on the uploaded file in a process of its own, under the RPC routes' "
        "rules: keys, at most `large_workers` jobs at once (503 before the body is read), the body cap and "
        "timeouts, one quota unit per request line (429), the request deadline. Unknown query parameters are "
        "refused (400).",
        "parameters": parameters,
        "requestBody": {
            "required": False,
            "content": {
                JSONL: {"schema": body_schema},  # no `example`: fuzzers draw such bodies as bytes, not JSON text
                "application/octet-stream": {"schema": body_schema},
            },
        },
        "responses": {
            200: {
                "description": 'NDJSON, streamed: `{"done": 0, "total": N}`, progress lines `{"done", '
                '"total"}` (about 50 at most), then `{"summary": …}` (the batch engine\'s summary) or '
                '`{"error": …}` (Google\'s error object: the deadline passed, the server shut down).',
                "content": {NDJSON: {"schema": {"type": "string"}}},
            },
            **error_responses("400", "401", "403", "408", "413", "429", "503", "504"),
        },
    }
    return {WEB_BATCH_PATH: {"post": operation}}
