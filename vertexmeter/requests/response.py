"""Responses read beside requests: a generateContent answer's candidates (streamed chunks joined) and what an
earlier response of a conversation says (its thoughts count and thought signatures)."""

from __future__ import annotations

from typing import Any

from vertexmeter.errors import invalid_argument
from vertexmeter.requests.calls import join_streamed_calls
from vertexmeter.requests.inputs import plain
from vertexmeter.requests.parse import decode_bytes, parse_message
from vertexmeter.requests.schema import snake_case
from vertexmeter.vocabulary import SERVER_TOOL_PARTS


def response_candidates(response: Any) -> list[tuple[list[dict[str, Any]], str | None]]:
    """The parts of each candidate and its finishReason (None when not given), streamed chunks joined
    by candidate index (the last chunk that states a finishReason gives it), a call streamed in pieces joined into one
    functionCall part (calls.join_streamed_calls)."""
    if isinstance(response, str):
        return [([{"text": response}], None)]
    response = plain(response, "response")  # google-genai types anywhere inside, as in requests
    if isinstance(response, dict) and "candidates" not in response and "parts" in response:
        content = parse_message("Content", response, "response")
        return [(join_streamed_calls(content.get("parts") or []), None)]
    chunks = response if isinstance(response, list) else [response]
    by_index: dict[int, list[dict[str, Any]]] = {}
    finish: dict[int, str | None] = {}
    for i, chunk in enumerate(chunks):
        if not isinstance(chunk, dict) or not isinstance(chunk.get("candidates", []), list):
            raise invalid_argument(
                "A response is the candidate's text, a Content, a GenerateContentResponse or a list of streamed "
                "GenerateContentResponse chunks.",
                f"response[{i}]" if isinstance(response, list) else "response",
            )
        for k, candidate in enumerate(chunk.get("candidates") or []):
            if not isinstance(candidate, dict):
                raise invalid_argument("A candidate is a JSON object.", f"response.candidates[{k}]")
            index = int(candidate.get("index", k) or 0)
            content = candidate.get("content") or {}
            parsed = parse_message("Content", content, f"response.candidates[{k}].content") if content else {}
            by_index.setdefault(index, []).extend(parsed.get("parts") or [])
            reason = candidate.get("finishReason", candidate.get("finish_reason"))
            if reason is not None:
                finish[index] = str(getattr(reason, "name", reason))
            else:
                finish.setdefault(index, None)
    return [(join_streamed_calls(by_index[k]), finish.get(k)) for k in sorted(by_index)]


def response_thoughts(chunk: dict[str, Any], path: str) -> int | None:
    """A chunk's usageMetadata.thoughtsTokenCount (0 when it states usage without thoughts), None without usage."""
    usage = chunk.get("usageMetadata", chunk.get("usage_metadata"))
    if usage is None:
        return None
    if not isinstance(usage, dict):
        raise invalid_argument("usageMetadata is a JSON object.", f"{path}.usage_metadata")
    value = usage.get("thoughtsTokenCount", usage.get("thoughts_token_count", 0)) or 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid_argument(
            f"thoughtsTokenCount is a whole number >= 0, not {value!r}.",
            f"{path}.usage_metadata.thoughts_token_count",
        )
    return value


def response_signatures(chunk: dict[str, Any], path: str) -> list[bytes]:
    """The thoughtSignatures of a response chunk's candidate parts, decoded, in order."""
    candidates = chunk.get("candidates") or []
    if not isinstance(candidates, list):
        raise invalid_argument("candidates is a list.", f"{path}.candidates")
    out: list[bytes] = []
    for k, candidate in enumerate(candidates):
        content = candidate.get("content") if isinstance(candidate, dict) else None
        parts = content.get("parts") if isinstance(content, dict) else None
        for j, part in enumerate(parts if isinstance(parts, list) else []):
            signature = part.get("thoughtSignature", part.get("thought_signature")) if isinstance(part, dict) else None
            if signature:
                where = f"{path}.candidates[{k}].content.parts[{j}].thought_signature"
                out.append(decode_bytes(signature, where))
    return out


def response_tool_runs(response: Any) -> dict[int, dict[str, list[str]]] | None:
    """What the server-side tools of a response ran, per candidate index: `webSearchQueries` (groundingMetadata)
    and `retrievedUrls` (urlContextMetadata), streamed chunks joined in order, each value once. None when the
    response is a text or a bare Content, which cannot say whether a tool ran."""
    if isinstance(response, str):
        return None
    response = plain(response, "response")
    if isinstance(response, dict) and "candidates" not in response and "parts" in response:
        return None
    chunks = response if isinstance(response, list) else [response]
    out: dict[int, dict[str, list[str]]] = {}
    for chunk in chunks:
        candidates = chunk.get("candidates") if isinstance(chunk, dict) else None
        for k, candidate in enumerate(candidates if isinstance(candidates, list) else []):
            if not isinstance(candidate, dict):
                continue
            runs = out.setdefault(int(candidate.get("index", k) or 0), {"webSearchQueries": [], "retrievedUrls": []})
            grounding = _field(candidate, "groundingMetadata")
            for query in _field(grounding, "webSearchQueries") or []:
                if isinstance(query, str) and query and query not in runs["webSearchQueries"]:
                    runs["webSearchQueries"].append(query)
            for item in _field(_field(candidate, "urlContextMetadata"), "urlMetadata") or []:
                url = _field(item, "retrievedUrl")
                if isinstance(url, str) and url and url not in runs["retrievedUrls"]:
                    runs["retrievedUrls"].append(url)
    return out


def response_shows_tool_run(response: Any) -> bool | None:
    """True when a response shows a server-side tool ran (toolUsePromptTokenCount, grounding or URL-context
    metadata, code execution or tool call parts), False when a whole response (or its streamed chunks) shows none,
    None when it cannot say: a text, or a Content without such parts (the metadata is not in a Content)."""
    if isinstance(response, str):
        return None
    response = plain(response, "response")
    if any(name in part for parts, _ in response_candidates(response) for part in parts for name in SERVER_TOOL_PARTS):
        return True
    if isinstance(response, dict) and "candidates" not in response and "parts" in response:
        return None
    for chunk in response if isinstance(response, list) else [response]:
        if _field(_field(chunk, "usageMetadata"), "toolUsePromptTokenCount"):
            return True
        candidates = _field(chunk, "candidates")
        for candidate in candidates if isinstance(candidates, list) else []:
            if _field(candidate, "groundingMetadata") or _field(candidate, "urlContextMetadata"):
                return True
    return False


def _field(message: Any, name: str) -> Any:
    """A field of a JSON object by its camelCase or snake_case name (None when absent or not an object)."""
    if not isinstance(message, dict):
        return None
    if name in message:
        return message[name]
    return message.get(snake_case(name))
