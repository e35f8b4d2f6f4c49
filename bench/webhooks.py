"""Webhook delivery: throughput with two `halfsky worker` processes, and commit→delivery latency when idle.

    .venv/bin/python bench/webhooks.py                       # PostgreSQL at TEST_DATABASE_URL's server
    .venv/bin/python bench/webhooks.py --db sqlite           # the embedded default (workers poll task_run)
    .venv/bin/python bench/webhooks.py --events 10000 --subscriptions 4 --workers 2

It makes a database of its own (dropped afterwards on PostgreSQL), a county with `--subscriptions` townships,
one subscription per township to a local receiver (127.0.0.1, HTTP/1.1 keep-alive, answers 204 at once), then:

1. throughput: writes `--events` events through `record_event` (spread over the townships) with the workers
   stopped, starts `--workers` worker processes and times until the receiver has every event;
2. latency: with the workers idle, commits one event every 50 ms and measures commit → arrival at the receiver.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 40)
os.environ.setdefault("PII_KEY", "bench-pii-key-" + "y" * 40)

import sqlalchemy as sa  # noqa: E402

from backend.core.db import Database, make_engine  # noqa: E402
from backend.core.migrate import upgrade  # noqa: E402


class Receiver:
    def __init__(self):
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()
        self.all_in = threading.Event()
        self.expect = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                event_id = int(self.headers["webhook-id"].removeprefix("evt_"))
                now = time.time()
                with receiver.lock:
                    receiver.arrived.setdefault(event_id, now)
                    if receiver.expect and len(receiver.arrived) >= receiver.expect:
                        receiver.all_in.set()
                del body
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def make_database(kind: str) -> tuple[str, callable]:
    if kind == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='halfsky-bench-')) / 'bench.db'}"
        upgrade(url)
        return url, lambda: None
    server = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = make_engine(server, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"halfsky_bench_webhooks_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(make_engine(server).url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def setup(db: Database, url: str, townships: int) -> list[int]:
    from backend.branches.models import Branch, BranchKind
    from backend.branches.service import place_under
    from backend.core.security import encrypt_field
    from backend.integrations.models import WebhookSubscription
    from backend.integrations.service import new_secret

    with db.session(write=True) as session:
        county = Branch(name="县", kind=BranchKind.county)
        place_under(county, None)
        session.add(county)
        session.flush()
        towns = []
        for i in range(townships):
            town = Branch(name=f"镇{i}", kind=BranchKind.township)
            place_under(town, county)
            session.add(town)
            session.flush()
            sub = WebhookSubscription(
                url=url, events=["ticket.created"], secret=encrypt_field(new_secret()), created_by="bench"
            )
            sub.place_in(town)
            session.add(sub)
            towns.append(town.id)
    return towns


def write_events(db: Database, towns: list[int], n: int, chunk: int = 500) -> list[int]:
    from backend.integrations.service import record_event

    ids = []
    for start in range(0, n, chunk):
        with db.session(write=True) as session:
            for i in range(start, min(n, start + chunk)):
                ids.append(
                    record_event(session, "ticket.created", towns[i % len(towns)], {"ticket_id": i}).id
                )
    return ids


def start_workers(url: str, count: int, workdir: str) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "HALFSKY_TASK_POLL_SECONDS": "0.2"}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "worker", "--concurrency", "4"],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-events", type=int, default=200)
    args = parser.parse_args()

    url, drop = make_database(args.db)
    db = Database(make_engine(url))
    receiver = Receiver()
    workdir = tempfile.mkdtemp(prefix="halfsky-bench-worker-")
    workers: list[subprocess.Popen] = []
    try:
        towns = setup(db, receiver.url, args.subscriptions)
        started = time.time()
        ids = write_events(db, towns, args.events)
        written = time.time() - started
        receiver.expect = len(ids)
        started = time.time()
        workers = start_workers(url, args.workers, workdir)
        finished = receiver.all_in.wait(600)
        took = time.time() - started
        print(f"database: {args.db}; {args.workers} workers; {args.subscriptions} subscriptions")
        print(f"wrote {len(ids)} events (with their deliveries) in {written:.1f} s")
        print(
            f"throughput: {len(receiver.arrived)} of {len(ids)} events delivered in {took:.1f} s "
            f"(from starting the workers) = {len(receiver.arrived) / took:.0f}/s"
            + ("" if finished else "  NOT ALL DELIVERED")
        )

        from backend.integrations.service import record_event

        time.sleep(2)  # idle
        latencies = []
        for i in range(args.latency_events):
            with db.session(write=True) as session:
                event_id = record_event(
                    session, "ticket.created", towns[i % len(towns)], {"ticket_id": -i}
                ).id
            committed = time.time()
            deadline = committed + 10
            while event_id not in receiver.arrived and time.time() < deadline:
                time.sleep(0.002)
            if event_id in receiver.arrived:
                latencies.append(receiver.arrived[event_id] - committed)
            time.sleep(0.05)
        if latencies:
            print(
                f"latency commit→delivery over {len(latencies)} events: p50 {statistics.median(latencies) * 1000:.0f} ms, "
                f"p95 {pct(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
            )
        else:
            print("latency: nothing delivered")
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
        db.engine.dispose()
        drop()


if __name__ == "__main__":
    main()
