"""What the HTTP benchmarks share: wrk at a fixed concurrency, and the bare FastAPI reference to compare with.

The reference is one `async def` endpoint answering a small JSON object, served by the same uvicorn with
the same options as `halfsky serve` (one process, uvloop, httptools, access log on), so a ratio to it says
what HalfSky itself costs per request on this machine, in this run.
"""

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare():
    return {"status": "ok"}
"""

# wrk prints its own summary; this adds the percentiles we report, in microseconds, on one line.
_WRK_SCRIPT = """
init = function(args)
  if #args > 0 then wrk.headers["Authorization"] = "Bearer " .. args[1] end
end
done = function(summary, latency, requests)
  io.write(string.format("HALFSKY %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text(errors="replace"))
        time.sleep(0.2)


@contextlib.contextmanager
def bare_server() -> Iterator[str]:
    """The bare reference under uvicorn, one process, as `halfsky serve` runs HalfSky; yields its URL."""
    directory = Path(tempfile.mkdtemp(prefix="halfsky-bare-"))
    (directory / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    log = directory / "uvicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "info",
                "--proxy-headers",
            ],
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/bare"
        wait_until_up(url, proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def wrk(url: str, token: str | None = None, seconds: float = 10, connections: int = 16) -> dict[str, float]:
    """requests/s and p50/p95/p99 (ms) of `connections` keep-alive clients for `seconds`."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT)
    try:
        cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{round(seconds)}s", "-s", script.name, url]
        if token:
            cmd += ["--", token]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"HALFSKY (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if match is None:
        raise RuntimeError(out)
    requests, duration_us, p50, p95, p99, errors = map(int, match.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": requests / (duration_us / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0),
    }


def run_on_databases(description: str, measure) -> None:
    """The command line both per-request benches share: `measure(kind, seconds, connections)` on each database."""
    import argparse

    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-secret-" + "k" * 40)
    os.environ.setdefault("PII_KEY", "bench-pii-" + "p" * 40)
    lines: list[str] = []
    for kind in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        lines += [*measure(kind, args.seconds, args.connections), ""]
    print("\n".join(lines))


def row(name: str, result: dict[str, float], bare_rps: float) -> str:
    return (
        f"{name:34} {result['rps']:8.0f} req/s  {100 * result['rps'] / bare_rps:5.1f} % of bare  "
        f"p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  errors {result['errors']:.0f}"
    )
