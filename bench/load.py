"""Real load: N phones and office users at once against the server as `make run` starts it.

    .venv/bin/python bench/load.py [--db sqlite|postgres|both] [--clients 50] [--seconds 60]
        [--workers N]

For each database: a fresh database with the demo county, `halfsky serve` with its defaults (the
configuration `make run` starts), then `--clients` clients for `--seconds`. Each client loops two reads
and one write, as in the field:

- village reps and township cadres (8 in 10 clients): the newest 20 activities twice, then report an
  activity (POST with a fresh Idempotency-Key);
- the hotline operator (1 in 10): the ticket queue twice, then a new ticket and a note on it;
- the health bureau (1 in 10): the screening list twice, then a batch of 100 screening results.

It prints the requests, the answers by status, p50/p95/p99, transport failures (dropped connections,
time-outs), and checks the database afterwards: every acknowledged write is stored exactly once.
The same driver serves `tests/core/test_concurrency.py` for a few seconds per database.
"""

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
HALFSKY = str(Path(sys.executable).with_name("halfsky"))
PG_SERVER = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "HalfSky-demo-2026"
PEOPLE = ("village.rep", "village2.rep", "township.cadre", "township2.cadre")
BATCH_ROWS = 100
_WEIGHTS = (11, 6, 5, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7)


def id_number(serial: int) -> str:
    """A valid resident ID number (checksum per GB 11643) for a woman born in 1975-1984."""
    birth = date(1975 + serial % 10, 1 + serial % 12, 1 + serial % 28)
    body = f"430725{birth:%Y%m%d}{(serial * 2) % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=False)) % 11]
    return body + check


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    activities: set[str] = field(default_factory=set)  # titles acknowledged with 201
    tickets: set[str] = field(default_factory=set)  # summaries acknowledged with 201
    screenings: set[str] = field(default_factory=set)  # external ids acknowledged as created
    children: set[str] = field(default_factory=set)  # names of children registered with 201
    retry_after_missing: int = 0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


class Client:
    def __init__(self, http: httpx.AsyncClient, tally: Tally, token: str):
        self.http = http
        self.tally = tally
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, url: str, **kwargs) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            r = await self.http.request(
                method, url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
            )
        except httpx.HTTPError as exc:
            self.tally.failures[type(exc).__name__] += 1
            return None
        self.tally.latencies.append(time.perf_counter() - started)
        self.tally.statuses[r.status_code] += 1
        if r.status_code == 503 and "retry-after" not in r.headers:
            self.tally.retry_after_missing += 1
        return r

    async def post_once(self, url: str, body: dict) -> httpx.Response | None:
        """A phone's submission: resent with the same Idempotency-Key after a 503 or a dropped answer."""
        key = uuid.uuid4().hex
        for _ in range(3):
            r = await self.call("POST", url, json=body, headers={"Idempotency-Key": key})
            if r is not None and r.status_code != 503:
                return r
            await asyncio.sleep(float(r.headers.get("retry-after", 1)) if r is not None else 1)
        return r


def child_id_number(serial: int) -> str:
    """A valid ID number for a child born 2023-2025, after every demo child, so none is registered twice."""
    from backend.screenings.idcard import make_id_number

    return make_id_number(
        "430725", date(2023, 1, 1) + timedelta(days=(serial // 500) % 1000), (serial % 500) * 2 + 1
    )


async def _person(client: Client, run: str, n: int, serial: list[int]) -> None:
    await client.call("GET", "/api/v1/activities?limit=20")
    await client.call("GET", "/api/v1/activities?limit=20")
    title = f"{run}-a{n}-{uuid.uuid4().hex[:8]}"
    r = await client.post_once("/api/v1/activities", {"type": "health_talk", "title": title})
    if r is not None and r.status_code == 201:
        client.tally.activities.add(title)
    if n % 2 == 0:
        # Every other round she registers a left-behind child in her own branch.
        serial[0] += 1
        name = f"{run}-c{n}"
        body = {"name": name, "id_number": child_id_number(serial[0]), "category": "left_behind_both_parents"}
        r = await client.post_once("/api/v1/children", body)
        if r is not None and r.status_code == 201:
            client.tally.children.add(name)


async def _operator(client: Client, run: str, n: int, branch_id: int) -> None:
    await client.call("GET", "/api/v1/tickets?limit=20")
    await client.call("GET", "/api/v1/tickets?limit=20&status=new")
    summary = f"{run}-t{n}-{uuid.uuid4().hex[:8]}"
    r = await client.post_once(
        "/api/v1/tickets",
        {
            "channel": "phone",
            "caller_name": "来电人",
            "caller_phone": "13800138000",
            "branch_id": branch_id,
            "category": "consultation",
            "summary": summary,
        },
    )
    if r is not None and r.status_code == 201:
        client.tally.tickets.add(summary)
        await client.post_once(f"/api/v1/tickets/{r.json()['id']}/actions/note", {"text": "已记录来电内容"})


async def _bureau(client: Client, run: str, n: int, village_id: int, serial: list[int]) -> None:
    await client.call("GET", "/api/v1/screenings?limit=20")
    await client.call("GET", "/api/v1/screenings?limit=20&result=abnormal")
    rows = []
    for i in range(BATCH_ROWS):
        serial[0] += 1
        rows.append(
            {
                "external_id": f"{run}-s{n}-{i}-{uuid.uuid4().hex[:6]}",
                "id_number": id_number(serial[0]),
                "name": "王秀英",
                "branch_id": village_id,
                "kind": "cervical",
                "screened_on": date.today().isoformat(),
                "method": "hpv",
                "result": "normal",
            }
        )
    r = await client.post_once("/api/v1/screenings/batch", {"rows": rows})
    if r is not None and r.status_code == 200:
        for item in r.json()["items"]:
            if item["outcome"] == "created":
                client.tally.screenings.add(item["external_id"])


async def _token(http: httpx.AsyncClient, **form: str) -> str:
    for _ in range(10):
        r = await http.post("/api/v1/auth/token", data=form)
        if r.status_code == 200:
            return r.json()["access_token"]
        await asyncio.sleep(float(r.headers.get("retry-after", 1)))
    raise RuntimeError(f"login failed: {r.status_code} {r.text}")


async def drive(base: str, clients: int, seconds: float) -> Tally:
    """Run the mix against `base`; returns what was sent, answered and acknowledged."""
    tally = Tally()
    run = f"load{uuid.uuid4().hex[:6]}"
    limits = httpx.Limits(max_connections=clients + 8, max_keepalive_connections=clients + 8)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        tokens = {
            name: await _token(http, grant_type="password", username=name, password=PASSWORD)
            for name in (*PEOPLE, "hotline.operator")
        }
        tokens["health-bureau"] = await _token(
            http, grant_type="client_credentials", client_id="health-bureau", client_secret=PASSWORD
        )
        probe = Client(http, Tally(), tokens["village.rep"])
        village_id = (await probe.call("GET", "/api/v1/auth/me")).json()["branch"]["id"]
        deadline = time.monotonic() + seconds
        serial = [random.randrange(10**6)]

        async def loop(i: int) -> None:
            kind = i % 10
            token = (
                tokens["hotline.operator"]
                if kind == 8
                else tokens["health-bureau"]
                if kind == 9
                else tokens[PEOPLE[i % len(PEOPLE)]]
            )
            client = Client(http, tally, token)
            n = 0
            await asyncio.sleep(random.random() * 0.5)
            while time.monotonic() < deadline:
                n += 1
                if kind == 8:
                    await _operator(client, run, i * 100_000 + n, village_id)
                elif kind == 9:
                    await _bureau(client, run, i * 100_000 + n, village_id, serial)
                else:
                    await _person(client, run, i * 100_000 + n, serial)

        await asyncio.gather(*(loop(i) for i in range(clients)))
    return tally


def stored(database_url: str, tally: Tally) -> dict[str, tuple[int, int, int]]:
    """For each kind of write: (acknowledged, stored among them, stored more than once)."""
    from backend.core.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    result = {}
    checks = (
        ("activities", "activity", "title", tally.activities),
        ("tickets", "ticket", "summary", tally.tickets),
        ("screenings", "screening_record", "external_id", tally.screenings),
        ("children", "child", "name", tally.children),
    )
    with engine.connect() as conn:
        for label, table, column, acknowledged in checks:
            counts: Counter = Counter()
            keys = sorted(acknowledged)
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = conn.execute(
                    sa.text(f"SELECT {column} FROM {table} WHERE {column} IN :keys").bindparams(
                        sa.bindparam("keys", expanding=True)
                    ),
                    {"keys": chunk},
                )
                counts.update(r[0] for r in rows)
            result[label] = (
                len(keys),
                sum(1 for k in keys if counts[k] >= 1),
                sum(1 for k in keys if counts[k] > 1),
            )
    engine.dispose()
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(kind: str, directory: Path, pg_server: str, template: str | None = None) -> str:
    """An empty database, or a copy of `template` (a database this module made)."""
    if kind == "sqlite":
        path = directory / "halfsky.db"
        if template:
            shutil.copyfile(sa.make_url(template).database, path)
        return f"sqlite:///{path}"
    from backend.core.db import make_engine

    name = f"halfsky_load_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_server, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        copy = f' TEMPLATE "{sa.make_url(template).database}"' if template else ""
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    admin.dispose()
    return (
        sa.make_url(pg_server.replace("postgresql://", "postgresql+psycopg://"))
        .set(database=name)
        .render_as_string(hide_password=False)
        .replace("postgresql+psycopg://", "postgresql://")
    )


def drop_database(url: str, pg_server: str) -> None:
    if not url.startswith("postgresql"):
        return
    from backend.core.db import make_engine

    admin = make_engine(pg_server, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')
    admin.dispose()


@dataclass
class Server:
    base: str
    database_url: str
    log: Path
    start: Any  # () -> None: start the server again, e.g. after `kill -9`
    procs: list[subprocess.Popen]

    def kill(self) -> None:
        """`kill -9` of the server and its worker processes, as a power cut would."""
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _halfsky_env(url: str, directory: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_DIR": str(directory / "media")}
    env.pop("HALFSKY_ENV", None)
    return env


@contextlib.contextmanager
def demo_database(kind: str, pg_server: str = PG_SERVER) -> Iterator[str]:
    """A migrated database with the demo county, to copy for each server (`served(template=...)`)."""
    directory = Path(tempfile.mkdtemp(prefix="halfsky-demo-"))
    url = fresh_database(kind, directory, pg_server)
    env = _halfsky_env(url, directory)
    try:
        subprocess.run([HALFSKY, "migrate"], env=env, cwd=directory, check=True, capture_output=True)
        subprocess.run([HALFSKY, "demo"], env=env, cwd=directory, check=True, capture_output=True)
        yield url
    finally:
        drop_database(url, pg_server)
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def served(
    kind: str,
    *,
    workers: int | None = None,
    pg_server: str = PG_SERVER,
    template: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`halfsky serve` as `make run` starts it, on a fresh demo database (or a copy of `template`)."""
    directory = Path(tempfile.mkdtemp(prefix="halfsky-load-"))
    url = fresh_database(kind, directory, pg_server, template)
    env = {**_halfsky_env(url, directory), **(env or {})}
    procs: list[subprocess.Popen] = []
    try:
        if template is None:
            subprocess.run([HALFSKY, "migrate"], env=env, cwd=directory, check=True, capture_output=True)
            subprocess.run([HALFSKY, "demo"], env=env, cwd=directory, check=True, capture_output=True)
        port = free_port()
        cmd = [HALFSKY, "serve", "--host", "127.0.0.1", "--port", str(port)]
        if workers:
            cmd += ["--workers", str(workers)]
        base = f"http://127.0.0.1:{port}"

        def start() -> None:
            with open(directory / "serve.log", "ab") as log:
                # Its own process group, so a kill reaches uvicorn's worker processes too.
                procs.append(
                    subprocess.Popen(
                        cmd,
                        env=env,
                        cwd=directory,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if procs[-1].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((directory / "serve.log").read_text())
                time.sleep(0.2)

        start()
        yield Server(base, url, directory / "serve.log", start, procs)
    finally:
        for running in procs:
            if running.poll() is None:
                os.killpg(running.pid, signal.SIGTERM)
                try:
                    running.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(running.pid, signal.SIGKILL)
        drop_database(url, pg_server)
        shutil.rmtree(directory, ignore_errors=True)


def report(kind: str, clients: int, seconds: float, tally: Tally, checks: dict) -> str:
    total = sum(tally.statuses.values())
    by_status = " ".join(f"{code}:{n}" for code, n in sorted(tally.statuses.items()))
    failures = " ".join(f"{k}:{n}" for k, n in tally.failures.items()) or "none"
    lines = [
        f"{kind:8} {clients:4} clients {seconds:4.0f} s  {total:6} answers ({total / seconds:6.1f}/s)  "
        f"p50 {tally.percentile(50):6.0f} ms  p95 {tally.percentile(95):6.0f} ms  "
        f"p99 {tally.percentile(99):6.0f} ms",
        f"         status {by_status}   transport failures: {failures}",
    ]
    for label, (acked, found, doubled) in checks.items():
        lines.append(f"         {label:10} acknowledged {acked:6}  stored {found:6}  stored twice {doubled}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--clients", type=int, nargs="+", default=[50])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, help="serve --workers (default: serve's own default)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "load-secret-" + "k" * 40)
    os.environ.setdefault("PII_KEY", "load-pii-" + "p" * 40)
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    lines = []
    for kind in kinds:
        for clients in args.clients:
            with served(kind, workers=args.workers) as server:
                tally = asyncio.run(drive(server.base, clients, args.seconds))
                lines.append(report(kind, clients, args.seconds, tally, stored(server.database_url, tally)))
                tracebacks = server.log.read_text(errors="replace").count("Traceback")
                if tracebacks:
                    lines[-1] += f"\n         server log: {tracebacks} tracebacks"
                print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
