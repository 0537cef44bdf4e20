"""The audit findings of issue #12, measured on a checkout (loopback only; every server is started and
killed here).

    python bench/audit_findings.py ../before      # before (another checkout)
    python bench/audit_findings.py .              # after

Prints one JSON object: quota with a new project name per request, a client hanging up mid-body
(metrics, tracebacks), 100 half-sent requests (still open after 20 s; /healthz meanwhile), SIGTERM
past --shutdown-timeout with a 12 MB request counting (the answer, the exit time), and in the
library: the 1.4 KB WAV stating 136 years, a PDF listing 100,000 pages, four internal IPv6 forms
(is connect() reached?). Figures of one run each: bench/results/audit_findings.txt.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
ABUSE = os.path.join(HERE, "..", "tests", "abuse")
sys.path.insert(0, HERE)
from mixed_load import start, text_body  # noqa: E402

PATH = "/v1/projects/{p}/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens"
ONE_WORD = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
LIBRARY = """
import json, socket, sys, time
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in repr(f)]
sys.path.insert(0, {checkout!r}); sys.path.insert(0, {abuse!r})
from hostile_media import file_body, flat_page_tree_pdf, lying_wav, media_body
import vertexmeter
from vertexmeter.media import MediaOptions
out = {{}}
try:
    out["wav_1458_bytes"] = vertexmeter.count("gemini-2.5-flash", media_body("audio/wav", lying_wav())).total_tokens
except Exception as exc:
    out["wav_1458_bytes"] = str(exc)[:90]
start = time.time()
try:
    vertexmeter.count("gemini-2.5-flash", media_body("application/pdf", flat_page_tree_pdf(100000, 100000)))
except Exception as exc:
    out["pdf_100k_refusal"] = str(exc)[:80]
out["pdf_100k_seconds"] = round(time.time() - start, 2)
reached = []
def spy(address, *args, **kwargs):
    reached.append(address[0])
    raise OSError("blocked by the measurement")
socket.create_connection = spy
for url in ("https://[64:ff9b::7f00:1]/x.png", "https://[::127.0.0.1]/x.png",
            "https://[64:ff9b::a9fe:a9fe]/x.png", "https://[::a9fe:a9fe]/x.png"):
    try:
        vertexmeter.count("gemini-2.5-flash", file_body(url), media_options=MediaOptions(allow_https=True))
    except Exception as exc:
        out[url] = str(exc)[:100]
out["ssrf_connect_reached"] = reached
print(json.dumps(out))
"""


def quota(checkout: str) -> dict[str, Any]:
    server = start(checkout, ["--quota-rpm", "20"])
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        codes = [client.post(PATH.format(p=f"proj-{i}"), json=ONE_WORD).status_code for i in range(60)]
    server.stop()
    return {"quota_20rpm_60_new_projects_admitted": codes.count(200)}


def connections(checkout: str) -> dict[str, Any]:
    server = start(checkout, [])
    port = int(server.base_url.rsplit(":", 1)[1])
    head = f"POST {PATH.format(p='p')} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
    hang_up = socket.create_connection(("127.0.0.1", port))
    hang_up.sendall(head.encode() + b'{"contents": [')
    time.sleep(0.3)
    hang_up.close()
    time.sleep(1)
    metrics = httpx.get(server.base_url + "/metrics").text
    result: dict[str, Any] = {
        "hangup_metrics_500": 'code="500"' in metrics,
        "hangup_traceback_lines": sum("Traceback" in line or "exception" in line.lower() for line in server.lines),
    }
    sockets = []
    for i in range(100):
        sock = socket.create_connection(("127.0.0.1", port))
        half = f"POST {PATH.format(p='p')} HTTP/1.1\r\nHost: x\r\n" if i % 2 else head + '{"c'
        sock.sendall(half.encode())
        sockets.append(sock)
    start_at = time.perf_counter()
    httpx.get(server.base_url + "/healthz")
    result["healthz_ms_with_100_half_sent"] = round(1000 * (time.perf_counter() - start_at), 1)
    time.sleep(20)
    still_open = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            sock.recv(65536)  # data or EOF: the server answered or closed
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
        sock.close()
    result["half_sent_still_open_after_20s_of_100"] = still_open
    server.stop()
    return result


def shutdown(checkout: str) -> dict[str, Any]:
    body = text_body(12_000_000)
    server = start(checkout, ["--shutdown-timeout", "1"])
    answer: dict[str, Any] = {}

    def call() -> None:
        try:
            answer["r"] = httpx.post(server.base_url + PATH.format(p="p"), content=body, timeout=120)
        except httpx.HTTPError as exc:
            answer["r"] = exc

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(2.5)
    sent = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(120)
    exited = round(time.monotonic() - sent, 1)
    caller.join(60)
    response = answer.get("r")
    if isinstance(response, httpx.Response):
        shown = f"{response.status_code} {response.headers.get('content-type')} {response.text[:60]!r}"
    else:
        shown = repr(response)
    return {"shutdown_exit_s_after_sigterm": exited, "shutdown_answer": shown}


def library(checkout: str) -> dict[str, Any]:
    code = LIBRARY.format(checkout=checkout, abuse=os.path.abspath(ABUSE))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=300)
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"library_error": done.stderr[-500:]}


def main() -> None:
    checkout = os.path.abspath(sys.argv[1])
    result: dict[str, Any] = {"checkout": checkout}
    for measure in (quota, connections, shutdown, library):
        result.update(measure(checkout))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
