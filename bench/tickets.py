"""12338 tickets at scale: lists (with the sealed/handler rule), the overdue filter, the figures and the SLA sweep.

    .venv/bin/python bench/tickets.py [--rows 200000] [--db sqlite|postgres] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Builds a fresh database with the demo county, copies its tickets (and timelines) until there are `--rows`
tickets spread over the last year, then times, in process through the app: the first page of the list for the
hotline operator, a township cadre and a village rep, `overdue=true`, `GET /tickets/stats` for the county and
one SLA sweep (then a second one, which must change nothing). Prints the median of 5 runs in ms.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-secret-" + "k" * 40)
os.environ.setdefault("PII_KEY", "bench-pii-" + "p" * 40)
os.environ.setdefault("HALFSKY_ENV", "test")

import sqlalchemy as sa  # noqa: E402

CHUNK = 5_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    from backend.core.db import Database, make_engine
    from backend.core.migrate import upgrade

    cleanup = None
    if args.db == "postgres":
        admin = make_engine(args.pg, isolation_level="AUTOCOMMIT", pool_size=1)
        name = f"halfsky_bench_tickets_{uuid.uuid4().hex[:6]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.make_url(make_engine(args.pg).url).set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='halfsky-bench-')) / 'tickets.db'}"
    try:
        run(url, args.rows, Database, make_engine, upgrade)
    finally:
        if cleanup:
            cleanup()


def run(url, rows, Database, make_engine, upgrade) -> None:
    from fastapi.testclient import TestClient

    from backend.demo import DEMO_PASSWORD, load_demo
    from backend.main import create_app
    from backend.tickets.models import Ticket, TicketCounter, TicketEvent
    from backend.tickets.service import sla_sweep

    upgrade(url)
    engine = make_engine(url)
    db = Database(engine)
    t0 = time.perf_counter()
    load_demo(db)
    print(f"demo county loaded in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    tt, et = Ticket.__table__, TicketEvent.__table__
    with db.session(write=True) as session:
        seeds = [dict(r._mapping) for r in session.execute(sa.select(tt))]
        events = {}
        for e in session.execute(sa.select(et)):
            events.setdefault(e.ticket_id, []).append(dict(e._mapping))
        n = len(seeds)
        copy = 0
        while n < rows:
            batch, timelines = [], []
            for seed in seeds[: min(CHUNK, rows - n)]:
                copy += 1
                shift = timedelta(days=(copy * 7) % 240)
                row = {k: v for k, v in seed.items() if k != "id"}
                for key, value in row.items():
                    if key.endswith("_at") and value is not None:
                        row[key] = value - shift
                row["number"] = f"12338-2025-{copy:06d}"
                batch.append(row)
                timelines.append(
                    [
                        {k: (v - shift if k == "at" else v) for k, v in e.items() if k != "id"}
                        for e in events[seed["id"]]
                    ]
                )
            ids = session.execute(
                sa.insert(tt).returning(tt.c.id, sort_by_parameter_order=True), batch
            ).scalars()
            pairs = zip(ids.all(), timelines, strict=True)
            session.execute(sa.insert(et), [{**e, "ticket_id": i} for i, tl in pairs for e in tl])
            n += len(batch)
        session.execute(sa.insert(TicketCounter.__table__).values(year=2025, last=copy))
    print(f"{rows} tickets in {time.perf_counter() - t0:.1f} s")

    client = TestClient(create_app(db))

    def login(username):
        r = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
        )
        return {"Authorization": "Bearer " + r.json()["access_token"]}

    def timed(label, path, headers, params=None):
        samples = []
        for _ in range(5):
            t = time.perf_counter()
            r = client.get(path, headers=headers, params=params)
            samples.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
        body = r.json()
        extra = f"total={body['total']}" if "total" in body else ""
        print(f"{label:<42} {statistics.median(samples):8.1f} ms  {extra}")

    operator, cadre, rep, leader = (
        login(u) for u in ("hotline.operator", "township.cadre", "village.rep", "leader")
    )
    timed("list, hotline operator (county)", "/api/v1/tickets", operator)
    timed("list, township cadre (sealed rule)", "/api/v1/tickets", cadre)
    timed("list, village rep (assigned to her)", "/api/v1/tickets", rep)
    timed("list overdue=true, operator", "/api/v1/tickets", operator, {"overdue": "true"})
    timed(
        "stats, leader, county, 1 year",
        "/api/v1/tickets/stats",
        leader,
        {"from": "2025-01-01", "to": "2026-12-31"},
    )
    for attempt in ("first", "second"):
        t = time.perf_counter()
        moved = sla_sweep(db)
        print(f"SLA sweep ({attempt} run){'':<24} {(time.perf_counter() - t) * 1000:8.1f} ms  moved={moved}")


if __name__ == "__main__":
    main()
