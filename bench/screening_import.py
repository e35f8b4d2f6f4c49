"""How long a 10,000-row Excel import of screening results takes, on SQLite and on PostgreSQL.

    python bench/screening_import.py [--rows 10000] [--pg postgresql://postgres@127.0.0.1:5432/test]

Each run builds a fresh database (migrated), a county with 10 townships and 100 villages, then runs the import
job exactly as the API does (parse the .xlsx, validate every row, register new women, create records and
follow-ups, commit every 500 rows, write the failed-rows sheet). 1 % of the rows are made invalid on purpose.
Target: under a minute for 10,000 rows.
"""

import argparse
import io
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PII_KEY", "bench-pii-key-" + "z" * 40)
os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "z" * 40)

import sqlalchemy as sa  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from backend.auth.models import User  # noqa: E402
from backend.branches.models import Branch, BranchKind  # noqa: E402
from backend.branches.service import place_under  # noqa: E402
from backend.core.db import Database, make_engine  # noqa: E402
from backend.core.migrate import upgrade  # noqa: E402
from backend.jobs import service as jobs  # noqa: E402
from backend.jobs.models import Job  # noqa: E402
from backend.screenings import imports  # noqa: E402
from backend.screenings.idcard import make_id_number  # noqa: E402
from backend.screenings.models import FollowUp, ScreeningRecord, Woman  # noqa: E402


def build_tree(db: Database) -> tuple[User, list[Branch]]:
    with db.session(write=True) as session:

        def node(parent, name, kind, code):
            b = Branch(name=name, kind=kind, code=code)
            place_under(b, parent)
            session.add(b)
            session.flush()
            return b

        county = node(None, "基准县", BranchKind.county, "B1")
        villages = []
        for t in range(10):
            town = node(county, f"镇{t}", BranchKind.township, f"B1{t:02d}")
            villages += [node(town, f"村{t}-{v}", BranchKind.village, f"B1{t:02d}{v:03d}") for v in range(10)]
        user = User(username="bench", display_name="基准", role="county_admin", password_hash="x")
        user.place_in(county)
        session.add(user)
        session.flush()
        return user, villages


def workbook(rows: int, villages: list[Branch]) -> bytes:
    rng = random.Random(7)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("结果")
    ws.append([c[1] for c in imports.RESULT_COLUMNS])
    today = date.today()
    for i in range(rows):
        born = date(1962, 1, 1) + timedelta(days=rng.randrange(0, 29 * 365))
        number = make_id_number("430725", born, (i * 2) % 1000) if i % 100 else "43072519800101001X"
        number = (
            make_id_number(f"43{(i // 500) % 90 + 10:02d}25", born, (i * 2) % 1000) if i % 100 else number
        )
        kind = "宫颈癌" if i % 2 == 0 else "乳腺癌"
        abnormal = rng.random() < 0.05
        if kind == "宫颈癌":
            method, tbs, birads = "细胞学(TBS)", "HSIL" if abnormal else "NILM", None
        else:
            method, tbs, birads = "乳腺超声", None, 4 if abnormal else 2
        ws.append(
            [
                f"BENCH-{i}",
                f"妇女{i}",
                number,
                f"139{i:08d}",
                villages[i % len(villages)].code,
                kind,
                today - timedelta(days=rng.randrange(0, 60)),
                "县妇幼保健院",
                method,
                "可疑阳性" if abnormal else "未见异常",
                tbs,
                birads,
                "是",
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(url: str, rows: int, label: str) -> None:
    t0 = time.perf_counter()
    upgrade(url)
    db = Database(make_engine(url))
    user, villages = build_tree(db)
    data = workbook(rows, villages)
    prepared = time.perf_counter()
    from backend.core.scope import Principal

    principal = Principal(
        kind="user",
        id=user.id,
        name="基准",
        role="county_admin",
        branch_id=user.branch_id,
        branch_depth=1,
        branch_path="",
        permissions=frozenset({"screenings:batch"}),
    )
    with db.session(write=True) as session:
        job = jobs.create_job(session, principal, imports.RESULTS_JOB, filename="bench.xlsx", payload=data)
    start = time.perf_counter()
    jobs.run_job(db, job.id)
    took = time.perf_counter() - start
    with db.session() as session:
        done = session.get(Job, job.id)
        counts = {
            m.__tablename__: session.execute(sa.select(sa.func.count()).select_from(m)).scalar_one()
            for m in (Woman, ScreeningRecord, FollowUp)
        }
    print(
        f"{label}: {rows} rows imported in {took:.1f} s ({rows / took:.0f} rows/s); status={done.status}, "
        f"done={done.rows_done}, failed={done.rows_failed}, result={done.result}; rows in tables {counts}; "
        f"setup {prepared - t0:.1f} s",
        flush=True,
    )
    with db.session(write=True) as session:
        again = jobs.create_job(session, principal, imports.RESULTS_JOB, filename="bench.xlsx", payload=data)
    start = time.perf_counter()
    jobs.run_job(db, again.id)
    took = time.perf_counter() - start
    with db.session() as session:
        print(
            f"{label}: the same file again in {took:.1f} s; result={session.get(Job, again.id).result}",
            flush=True,
        )
    batch_rows = [
        {
            "external_id": f"API-{i}",
            "id_number": make_id_number("430725", date(1970, 1, 1) + timedelta(days=i), 8),
            "name": f"接口{i}",
            "phone": f"136{i:08d}",
            "branch_id": villages[i % len(villages)].id,
            "kind": "breast",
            "screened_on": date.today().isoformat(),
            "method": "ultrasound",
            "result": "normal" if i % 20 else "suspected_positive",
            "birads": 2 if i % 20 else 4,
        }
        for i in range(1000)
    ]
    from backend.screenings.service import apply_batch

    for attempt in ("first", "resent"):
        start = time.perf_counter()
        with db.session(write=True) as session:
            session.info["principal"] = principal
            out = apply_batch(session, principal, batch_rows)
        print(
            f"{label}: POST /screenings/batch of 1000 rows ({attempt}) in {time.perf_counter() - start:.1f} s; "
            f"created={out['created']} unchanged={out['unchanged']} errors={out['errors']}",
            flush=True,
        )
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--pg", default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="halfsky-bench-"))
    run(f"sqlite:///{tmp / 'bench.db'}", args.rows, "SQLite")
    if args.skip_pg:
        return
    admin = make_engine(args.pg, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"halfsky_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = sa.make_url(make_engine(args.pg).url).set(database=name).render_as_string(hide_password=False)
        run(url, args.rows, "PostgreSQL")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
