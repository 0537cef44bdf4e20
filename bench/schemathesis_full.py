"""The full schemathesis run: every operation of `/openapi.json` (the web batch route included), against a real
`vertexmeter serve` on loopback; prints the number of requests the server answered and how many were 5xx.

    python bench/schemathesis_full.py [--checkout DIR] [--max-examples 300] [--seconds 2400] [--log FILE]
    python bench/schemathesis_full.py --operation web_batch --phases examples,fuzzing --max-examples 300

Phases examples, coverage and fuzzing, check `not_a_server_error`, one schemathesis worker: the web batch
route admits `--large-workers` (1) jobs at once and answers more with 503 by design, which this run would
count as a server error (docs/server.md, "Testing"). The run stops by itself after `--seconds`; the counts
come from the server's access log, so a stopped run still counts every answered request. Bodies of the
batch route (`application/jsonl`) are drawn by `tests/abuse/batch_fuzz.py` (`SCHEMATHESIS_HOOKS`).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", default=str(ROOT), help="source tree to serve (default: this one)")
    parser.add_argument("--max-examples", type=int, default=300)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--seconds", type=float, default=2400, help="stop the run after this long")
    parser.add_argument("--operation", action="append", default=[], help="only this operationId (repeatable)")
    parser.add_argument("--log", default=None, help="keep the server's log here (default: a temporary file)")
    args = parser.parse_args()

    checkout = str(Path(args.checkout).resolve())
    port = free_port()
    log_path = Path(args.log or f"/tmp/vertexmeter-schemathesis-{port}.log")
    env = {**os.environ, "PYTHONPATH": checkout}
    env.pop("VERTEXMETER_ENGINE_ONLY", None)
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from vertexmeter.cli import run; run()",
                "serve",
                "--port",
                str(port),
                "--quota-rpm",
                "0",
            ],
            env=env,
            cwd="/",
            stdout=log,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            st_env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT), checkout])}  # the tests package
            st_env["SCHEMATHESIS_HOOKS"] = "tests.abuse.batch_fuzz"
            command = [
                "st",
                "run",
                base + "/openapi.json",
                "--phases",
                args.phases,
                "--checks",
                "not_a_server_error,batch_stream_ends_well",
                "--max-examples",
                str(args.max_examples),
                "--workers",
                "1",
                "--suppress-health-check",
                "all",
                "--no-color",
            ]
            for operation in args.operation:
                command += ["--include-operation-id", operation]
            print("$", " ".join(command), flush=True)
            started = time.monotonic()
            fuzzer = subprocess.Popen(command, env=st_env, start_new_session=True)
            try:
                rc = fuzzer.wait(timeout=args.seconds)
            except subprocess.TimeoutExpired:
                os.killpg(fuzzer.pid, signal.SIGTERM)
                rc = fuzzer.wait()
                print(f"stopped after {args.seconds:g} s", flush=True)
            elapsed = time.monotonic() - started
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    statuses: collections.Counter[int] = collections.Counter()
    errors: collections.Counter[tuple[str, str, int]] = collections.Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") != "access" or record.get("path") == "/openapi.json":
            continue
        status = int(record["status"])
        statuses[status] += 1
        if status >= 500:
            errors[(record["method"], record["route"], status)] += 1
    total = sum(statuses.values())
    fivexx = sum(n for code, n in statuses.items() if code >= 500)
    print(f"schemathesis exit code {rc}, {elapsed:.0f} s; server log {log_path}")
    print("requests by status: " + ", ".join(f"{n} x {code}" for code, n in sorted(statuses.items())))
    batch = sum(1 for line in log_path.read_text(errors="replace").splitlines() if '"/web/api/batch"' in line)
    print(f"web batch route: {batch} requests")
    for (method, route, status), n in errors.most_common():
        print(f"  5xx: {n} x {status} {method} {route}")
    tracebacks = sum(1 for line in log_path.read_text(errors="replace").splitlines() if "Traceback" in line)
    print(f"tracebacks in the server log (a batch job's failure inside its stream shows only there): {tracebacks}")
    print(f"cases: {total}, 5xx: {fivexx}")
    return 1 if fivexx or tracebacks or rc else 0


if __name__ == "__main__":
    sys.exit(main())
