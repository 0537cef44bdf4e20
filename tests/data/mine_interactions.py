"""Write tests/data/interactions_2026.jsonl.gz: recorded Interactions API answers (not run by the tests).

usage: python tests/data/mine_interactions.py tests/data/interactions_2026.jsonl.gz

The exchanges below were copied by hand from stored index versions of the recordings named in each record's
`source` (tests/data/PROVENANCE.md, "interactions_2026.jsonl.gz"): request bodies whole, as the cassette's YAML
string reads (folded lines joined by one space, `''` as a quote), answers with their usage, status, model, date and
steps, less what no count here reads (a search answer's steps, a thought summary). Checks before writing: every
signature is valid base64 whose protobuf length prefix matches its length, every total_tokens is the sum of its
parts, and every `created` is its HTTP Date header's day. Each exchange gives an input record (total_input_tokens)
and, where its steps were copied, an output record (total_output_tokens) with the answer; `earlier` names the
input records whose answers the request replays (their answers are the `history` that makes thoughts exact).
"""

# ruff: noqa: E501  (the copied signatures are single tokens longer than a line)
import base64
import gzip
import json
import sys
from pathlib import Path

S1 = "Eo8DCowDAWkUfRO37IAPPlMUzAppSqQWTg4GPJX5uMTg67DLvgoP+U/4viSaizTEnB0WBoaMbZcNHrAKOhLhEY+LwuZuIj5s15HAt4d/+Q/wxzSOnOtx/qy/jF8fmxOvzxkDCywm2QXHYIxXdiE2KZSlq69WPteMjzaMkfJ2tpGYbL1TCgWrol0N4tHVg8oy0JmgP/sif3cV8dOuH3NXhu9pi4ibq09lw+jiTw37z72nsAsrrfP62suFGfw0eyrK/MA/YjH6gt8t+JVeuwkWHtbAusI2I6Hr/3DBvx/IR/w85EwIzIlGwkIjqbeMKwmrEpweeg9+2BniGXGk/JFiOhrNnHOVarB9VOhZ/GHH7gZ0dR7VVoS0gY+wEGtm/JaqKPdrcc6lf55R2I/LO+lCS9cVd9CW02jNry7P2NROm5SZuXx6Y2uYw4qaNXhmIulA1TRAVqouY1wQawZr1QPdpt1OSxXLE7jxqdKcHq2TyejU6qupOLBwoOIblByyuW30HQJx7KGRw7ZNzxN4aS2y9bD+"
S2 = "EsMCCsACAWkUfROi8apMibI5DheTuqXc36N1lQAgROqX/O/LxjQpzzunQQX9GtEt8EcE1CVVwyjeAPRCcYA1SjObJEPUwfI5BAWc1nYLy2+bRy1x/nlntC7quuRsR+oHcTZ3A0aq4ijFGWQXlKuxK9uVnRK/TeWIz8WzNOUEymJhnAqzAgOqIVUFVrHGJumQLrGfX8eA4tbOUjSTA5j8y7Lp2PNSTZ8AObuEcMAKG3TpUQjAhWWono1lLTEKPeckU1NRfyQH+sm9ifEHfzt3oFp7vAApKpA1qIGdbwdmNoTnz5WIv9l/b66f5J2mPx1aeIUGVEqfdUrwgBNoxPdYBjUmcgTMo6iizlEQ1bk7cyB3weyVAjhUugNNoTNIyRJfN5yzVAkKbK+o78QKn5AiYfpQg4yp7BiluJv7bajnOmFQ3T4WU8w="
S3 = "EtECCs4CAWkUfRNIW7Gve8JlYQwJpSg+48gcZRAT3rmyWCphpFT8/zanj4axgXuzFbiPoT4T9zS7+TmJ4gWIA5LSg8cN32EaSABVbLD+v65tKgFAGXZuI3ncivjZlDyX0VI+pMdq+nkGmNEzJixnGaBDsdYJdGqsshFR/9mskmU2R5VeN7eGCtsMU7Rf/9VkQ4SaCVBF8kZ0JVKrhY+cf3TAmWo8ODzNQm2+8Dq6f17JUjryuE3cE3dxTSv/h8drQlsCwnvybVGNXqKfmmR9T0iJtDJ2wDBmVxRYyqLTx6yTU4RPWfu5F+jCY98/cFx7MFM1wvnXjF4f/tL/ZroLK+um9asJCwxCio8vh2radEfyeo4qbAldXjrBUHeecBPVGSidzoniymaixRKnEehXZiuhtlLyrS5dyATWeB1GbpiFBlQ8ZnQ9LZHahY4Pekg1KhKF/Q=="
S4 = "EuEBCt4BAWkUfRN2TcuTPy1PIDpVhK6PiQOEhqe/43yjrAAU/futeMVLV64jHUnOzphx12Ovk2dX1sgBYJFqnGuuSHgGOoICTrd2DsEe/0Qy6OhNLCGTuNJQ/8T7SNc86rkeM7fep5Dnmjk+HOGB3hwiItXz0lApRbrONyRG563FWiP7kWVVP5CYl1pCvYqn6OEAgiRS/LHQdwaOnMA/aR4EQtrfNzG2h4/5HKAbv1G+WC758jyKbeM6w0cYBIra7vsQwicmsEfT8jnG/BQcbWgX4GAoj4ORq8JhEggFVTYoou1r"


def check(sig):
    raw = base64.b64decode(sig, validate=True)
    # A signature is a protobuf message: field 2 (0x12), varint length, the rest: the length must match.
    assert raw[0] == 0x12, sig[:8]
    n, shift, i = 0, 0, 1
    while True:
        b = raw[i]
        n |= (b & 0x7F) << shift
        i += 1
        shift += 7
        if b < 0x80:
            break
    assert n == len(raw) - i, (sig[:8], n, len(raw) - i)
    return sig


for s in (S1, S2, S3, S4):
    check(s)

ELLMER = "tidyverse/ellmer"
SYS = "Always use a tool to answer. Reply with 'It is ____.'."
TOOLS = [
    {"type": "function", "name": "current_date", "description": "Return the current date"},
    {"type": "function", "name": "current_month", "description": "Return the full name of the current month"},
]
GEN = {"temperature": 0, "seed": 1014}
Q1 = {"type": "user_input", "content": [{"type": "text", "text": "What's the current date in Y-M-D format?"}]}
Q2 = {"type": "user_input", "content": [{"type": "text", "text": "What month is it? Provide the full name"}]}
T1 = {"signature": S1, "type": "thought"}
C1 = {"type": "function_call", "id": "call_899538", "name": "current_date", "arguments": {}}
R1 = {
    "type": "function_result",
    "call_id": "call_899538",
    "name": "current_date",
    "result": [{"type": "text", "text": "2024-01-01"}],
    "is_error": False,
}
T2 = {"signature": S2, "type": "thought"}
O2 = {"type": "model_output", "content": [{"type": "text", "text": "It is 2024-01-01."}]}
T3 = {"signature": S3, "type": "thought"}
C3 = {"type": "function_call", "id": "call_557970", "name": "current_month", "arguments": {}}
R3 = {
    "type": "function_result",
    "call_id": "call_557970",
    "name": "current_month",
    "result": [{"type": "text", "text": "February"}],
    "is_error": False,
}


def tool_body(inp):
    return {
        "model": "gemini-3.7-flash",
        "store": False,
        "stream": False,
        "system_instruction": SYS,
        "input": inp,
        "tools": TOOLS,
        "generation_config": GEN,
    }


def usage(total, inp, out, thought, raw, cand, tool=0, search=None, invocations=None):
    u = {
        "total_tokens": total,
        "total_input_tokens": inp,
        "input_tokens_by_modality": [{"modality": "text", "tokens": inp}],
        "total_cached_tokens": 0,
        "total_output_tokens": out,
        "total_tool_use_tokens": tool,
        "total_thought_tokens": thought,
    }
    if search:
        u["grounding_tool_count"] = [{"type": "google_search", "count": search, "search_query_count": search}]
    u["raw_prompt_token"] = raw
    u["model_invocation_token_counts"] = invocations or [
        {
            "prompt_tokens_details": [{"modality": "text", "tokens": raw}],
            "candidates_tokens_details": [{"modality": "text", "tokens": cand}],
            "thoughts_tokens_details": [{"modality": "text", "tokens": thought}],
        }
    ]
    return u


def answer(status, u, day, time, steps, model="gemini-3.7-flash"):
    return {
        "status": status,
        "usage": u,
        "created": f"{day}T{time}Z",
        "updated": f"{day}T{time}Z",
        "service_tier": "standard",
        "steps": steps,
        "object": "interaction",
        "model": model,
    }


D = "2026-09-25"
TOOL_COMMIT = "3d0f90fb225a8e1392bccaa9d5889bfb7db9212b"
LEVEL_COMMIT = "4cb910236b7085b6c7aabac9636b893d2ae671c7"
RUBY_COMMIT = "1b4267bdb1eaadab2faeebffc023884d9543d847"
exchanges = [
    # (id, repo, path, commit, index, date header, request, answer, earlier)
    (
        "ixelmr-0001",
        ELLMER,
        "tests/testthat/_vcr/google-tool.yml",
        TOOL_COMMIT,
        0,
        "Fri, 25 Sep 2026 11:46:50 GMT",
        tool_body([Q1]),
        answer(
            "requires_action",
            usage(160, 68, 10, 82, 111, 16),
            D,
            "11:46:50",
            [
                {"signature": S1, "type": "thought"},
                {"id": "call_899538", "type": "function_call", "name": "current_date", "arguments": {}},
            ],
        ),
        [],
    ),
    (
        "ixelmr-0002",
        ELLMER,
        "tests/testthat/_vcr/google-tool.yml",
        TOOL_COMMIT,
        1,
        "Fri, 25 Sep 2026 11:46:52 GMT",
        tool_body([Q1, T1, C1, R1]),
        answer(
            "completed",
            usage(281, 178, 13, 90, 234, 18),
            D,
            "11:46:52",
            [
                {"signature": S2, "type": "thought"},
                {"content": [{"text": "It is 2024-01-01.", "type": "text"}], "type": "model_output"},
            ],
        ),
        ["ixelmr-0001"],
    ),
    (
        "ixelmr-0003",
        ELLMER,
        "tests/testthat/_vcr/google-tool.yml",
        TOOL_COMMIT,
        2,
        "Fri, 25 Sep 2026 11:46:54 GMT",
        tool_body([Q1, T1, C1, R1, T2, O2, Q2]),
        answer(
            "requires_action",
            usage(367, 293, 10, 64, 361, 16),
            D,
            "11:46:54",
            [
                {"signature": S3, "type": "thought"},
                {"id": "call_557970", "type": "function_call", "name": "current_month", "arguments": {}},
            ],
        ),
        ["ixelmr-0001", "ixelmr-0002"],
    ),
    (
        "ixelmr-0004",
        ELLMER,
        "tests/testthat/_vcr/google-tool.yml",
        TOOL_COMMIT,
        3,
        "Fri, 25 Sep 2026 11:46:56 GMT",
        tool_body([Q1, T1, C1, R1, T2, O2, Q2, T3, C3, R3]),
        answer(
            "completed",
            usage(410, 376, 4, 30, 457, 8),
            D,
            "11:46:56",
            [
                {"signature": S4, "type": "thought"},
                {"content": [{"text": "It is February.", "type": "text"}], "type": "model_output"},
            ],
        ),
        ["ixelmr-0001", "ixelmr-0002", "ixelmr-0003"],
    ),
    (
        "ixelmr-0005",
        ELLMER,
        "tests/testthat/_vcr/google-thinking-level.yml",
        LEVEL_COMMIT,
        0,
        "Fri, 25 Sep 2026 11:48:17 GMT",
        {
            "model": "gemini-3.7-flash",
            "store": False,
            "stream": False,
            "input": [{"type": "user_input", "content": [{"type": "text", "text": "What is 1 + 1?"}]}],
            "generation_config": {
                "temperature": 0,
                "thinking_level": "low",
                "seed": 1014,
                "thinking_summaries": "auto",
            },
        },
        answer(
            "completed",
            usage(79, 9, 7, 63, 40, 11),
            D,
            "11:48:17",
            [{"content": [{"text": "1 + 1 = 2", "type": "text"}], "type": "model_output"}],
        ),
        [],
    ),
    (
        "ixelmr-0006",
        ELLMER,
        "tests/testthat/_vcr/google-web-search.yml",
        LEVEL_COMMIT,
        0,
        "Fri, 25 Sep 2026 11:47:18 GMT",
        {
            "model": "gemini-3.7-flash",
            "store": False,
            "stream": False,
            "input": [
                {
                    "type": "user_input",
                    "content": [
                        {
                            "type": "text",
                            "text": "When was ggplot2 1.0.0 released to CRAN?\n\nAnswer in YYYY-MM-DD format.",
                        }
                    ],
                }
            ],
            "tools": [{"type": "google_search"}],
            "generation_config": {"temperature": 0, "seed": 1014},
        },
        answer(
            "completed",
            usage(
                335,
                127,
                17,
                191,
                26355,
                0,
                search=6,
                invocations=[
                    {
                        "prompt_tokens_details": [{"modality": "text", "tokens": 245}],
                        "candidates_tokens_details": [{"modality": "text", "tokens": 42}],
                        "thoughts_tokens_details": [{"modality": "text", "tokens": 78}],
                    },
                    {
                        "prompt_tokens_details": [{"modality": "text", "tokens": 8759}],
                        "candidates_tokens_details": [{"modality": "text", "tokens": 109}],
                        "thoughts_tokens_details": [{"modality": "text", "tokens": 21}],
                    },
                    {
                        "prompt_tokens_details": [{"modality": "text", "tokens": 26355}],
                        "candidates_tokens_details": [{"modality": "text", "tokens": 21}],
                        "thoughts_tokens_details": [{"modality": "text", "tokens": 92}],
                    },
                ],
            ),
            D,
            "11:47:18",
            None,
        ),
        [],
    ),
    (
        "ixrllm-0001",
        "crmne/ruby_llm",
        "spec/fixtures/vcr_cassettes/activerecord_actsas_replays_a_searched_gemini_interaction_from_its_record_without_the_suggestions.yml",
        RUBY_COMMIT,
        0,
        "Sat, 03 Oct 2026 01:43:53 GMT",
        {
            "model": "gemini-3.8-flash",
            "input": [
                {
                    "type": "user_input",
                    "content": [
                        {
                            "type": "text",
                            "text": "Search the web: what is the latest stable Ruby version? Answer in one sentence.",
                        }
                    ],
                }
            ],
            "stream": False,
            "store": False,
            "system_instruction": "",
            "generation_config": {},
            "tools": [{"type": "google_search"}],
        },
        answer(
            "completed",
            usage(
                224,
                60,
                20,
                144,
                9464,
                0,
                search=2,
                invocations=[
                    {
                        "prompt_tokens_details": [{"modality": "text", "tokens": 232}],
                        "candidates_tokens_details": [{"modality": "text", "tokens": 28}],
                        "thoughts_tokens_details": [{"modality": "text", "tokens": 42}],
                    },
                    {
                        "prompt_tokens_details": [{"modality": "text", "tokens": 9464}],
                        "candidates_tokens_details": [{"modality": "text", "tokens": 24}],
                        "thoughts_tokens_details": [{"modality": "text", "tokens": 102}],
                    },
                ],
            ),
            "2026-10-03",
            "01:43:53",
            None,
            model="gemini-3.8-flash",
        ),
        [],
    ),
]

# google-image.yml's first exchange sends ellmer's test image (the httr2 logo, a 26,785-byte PNG) inline. Its bytes
# are not transcribed: they are the medium the media set already keeps (tests/data/media_blobs.jsonl.gz, from
# google-image.yml's generateContent version at 5bcc87c5ad), which the index version matches in its base64 length
# (35,716 characters), its first 60 and its last 290 characters (the PNG header and dimensions, the last IDAT
# chunk with its CRC, IEND).
IMAGE_SHA256 = "c4419371b387"
IMAGE_COMMIT = "06ab6b2802ddd8df668786ccee3daa0c4b2c03ec"
BLOBS = Path(__file__).resolve().parent / "media_blobs.jsonl.gz"
with gzip.open(BLOBS, "rt", encoding="utf-8") as _blobs:
    (IMAGE,) = [b["data"] for b in map(json.loads, _blobs) if b["sha256"].startswith(IMAGE_SHA256)]
assert len(IMAGE) == 35716 and IMAGE.endswith("MdPjI8p+/f9RABURCvfGCwAAAABJRU5ErkJggg==")
IMAGE_INVOCATION = {
    "prompt_tokens_details": [{"modality": "text", "tokens": 50}, {"modality": "image", "tokens": 1085}],
    "candidates_tokens_details": [{"modality": "text", "tokens": 164}],
    "thoughts_tokens_details": [{"modality": "text", "tokens": 427}],
}
exchanges.append(
    (
        "ixelmr-0007",
        ELLMER,
        "tests/testthat/_vcr/google-image.yml",
        IMAGE_COMMIT,
        0,
        "Fri, 25 Sep 2026 11:56:23 GMT",
        {
            "model": "gemini-3.7-flash",
            "store": False,
            "stream": False,
            "input": [
                {
                    "type": "user_input",
                    "content": [
                        {"type": "text", "text": "What's in this image? (Be sure to mention the outside shape)"},
                        {"type": "image", "data": IMAGE, "mime_type": "image/png"},
                    ],
                }
            ],
            "generation_config": {"temperature": 0, "seed": 1014},
        },
        answer(
            "completed",
            {
                "total_tokens": 1688,
                "total_input_tokens": 1102,
                "input_tokens_by_modality": [{"modality": "text", "tokens": 17}, {"modality": "image", "tokens": 1085}],
                "total_cached_tokens": 0,
                "total_output_tokens": 159,
                "total_tool_use_tokens": 0,
                "total_thought_tokens": 427,
                "raw_prompt_token": 1135,
                "model_invocation_token_counts": [IMAGE_INVOCATION],
                "non_grounding_model_invocation_token_counts": [IMAGE_INVOCATION],
            },
            D,
            "11:56:23",
            None,
        ),
        [],
    )
)

MONTHS = {"Sep": "09", "Oct": "10"}
out = []
for ident, repo, path, commit, index, date, request, ans, earlier in exchanges:
    u = ans["usage"]
    assert (
        u["total_tokens"]
        == u["total_input_tokens"] + u["total_output_tokens"] + u["total_thought_tokens"] + u["total_tool_use_tokens"]
    ), ident
    parts = date.split()
    day = f"{parts[3]}-{MONTHS[parts[2]]}-{parts[1]}"
    assert ans["created"].startswith(day), ident
    source = f"{repo}:{path} (commit {commit[:10]}, stored index version), interaction {index}"
    base = {
        "source": source,
        "model": request["model"],
        "api": "interactions",
        "endpoint": "gemini-api",
        "recorded": day,
        "recorded_basis": "http-date-header",
        "confidence": "high",
        "raw_usage": u,
        "notes": f"model={ans['model']}; POST /v1beta/interactions; status={ans['status']}",
    }
    out.append(
        {
            "id": ident,
            **base,
            "kind": "input",
            "request": request,
            "expected": {"total_input_tokens": u["total_input_tokens"]},
            "earlier": earlier,
        }
    )
    if ans["steps"] is not None:
        out.append(
            {
                "id": ident.replace("-", "o-"),
                **base,
                "kind": "output",
                "request": request,
                "response": {k: v for k, v in ans.items() if k != "usage"},
                "expected": {"total_output_tokens": u["total_output_tokens"]},
                "earlier": earlier,
            }
        )
with gzip.GzipFile(sys.argv[1], "wb", mtime=0) as f:
    for r in out:
        f.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
print(len(out), "records")
