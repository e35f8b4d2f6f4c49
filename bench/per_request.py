"""What one request costs: HalfSky's endpoints against a bare FastAPI endpoint, one process, same run.

    .venv/bin/python bench/per_request.py [--db sqlite|postgres|both] [--seconds 10] [--connections 16]

A fresh database with the demo county, `halfsky serve --workers 1` (the `make run` configuration, one
process), and beside it the bare reference (`bench/httpbench.py`) under the same uvicorn. wrk drives each
endpoint with 16 keep-alive connections: `/health`, `/auth/me`, and the 50-row scoped lists of tickets,
screenings, activities and women as the county admin and as a township cadre. The bare reference is
measured before and after; the ratio is to their mean. Targets (issue "Real load"): lists >= 25 % of bare
with p95 < 50 ms, `/auth/me` >= 50 %, `/health` >= 80 %.
"""

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpbench import bare_server, row, run_on_databases, wrk  # noqa: E402
from load import PASSWORD, served  # noqa: E402

LISTS = ("tickets", "screenings", "activities", "women")


def token(base: str, username: str) -> str:
    r = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
    )
    r.raise_for_status()
    return r.json()["access_token"]


def measure(kind: str, seconds: float, connections: int) -> list[str]:
    lines = []
    with bare_server() as bare_url, served(kind, workers=1) as server:
        base = server.base
        wrk(bare_url, seconds=2, connections=connections)
        bare_before = wrk(bare_url, seconds=seconds, connections=connections)
        tokens = {name: token(base, name) for name in ("county.admin", "township.cadre")}
        cases = [
            ("/health", f"{base}/api/v1/health", None),
            ("/auth/me", f"{base}/api/v1/auth/me", tokens["township.cadre"]),
        ]
        for who in ("county.admin", "township.cadre"):
            for name in LISTS:
                cases.append((f"{name} ×50 ({who})", f"{base}/api/v1/{name}?limit=50", tokens[who]))
        results = []
        for name, url, tok in cases:
            wrk(url, tok, seconds=2, connections=connections)
            results.append((name, wrk(url, tok, seconds=seconds, connections=connections)))
        bare_after = wrk(bare_url, seconds=seconds, connections=connections)
    bare_rps = (bare_before["rps"] + bare_after["rps"]) / 2
    lines.append(
        f"{kind}: one process, c={connections}, {seconds:.0f} s per line; bare FastAPI "
        f"{bare_before['rps']:.0f} req/s before, {bare_after['rps']:.0f} after"
    )
    lines.append(row("bare FastAPI (mean)", {**bare_before, "rps": bare_rps}, bare_rps))
    lines += [row(name, result, bare_rps) for name, result in results]
    return lines


def main() -> None:
    run_on_databases(__doc__, measure)


if __name__ == "__main__":
    main()
