"""How long a 10,000-row Excel import of a children's list takes, on SQLite and on PostgreSQL.

    python bench/children_import.py [--rows 10000] [--pg postgresql://postgres@127.0.0.1:5432/test] [--skip-pg]

Each run builds a fresh database (migrated) with the same county as `screening_import.py` (10 townships, 100
villages), then runs the import job exactly as the API does: parse the .xlsx, validate every row (ID-number
checksum, dictionaries, phones), encrypt the ID number and the guardian's and parents' phones, deduplicate on the
ID number's blind index, commit in chunks, write the failed-rows sheet. 1 % of the rows are made invalid on
purpose. The same file is then imported again (every row already registered).
"""

import argparse
import io
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PII_KEY", "bench-pii-key-" + "z" * 40)
os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "z" * 40)

import sqlalchemy as sa  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from backend.children import imports  # noqa: E402
from backend.children.models import Child  # noqa: E402
from backend.core.db import Database, make_engine  # noqa: E402
from backend.core.migrate import upgrade  # noqa: E402
from backend.core.scope import Principal  # noqa: E402
from backend.jobs import service as jobs  # noqa: E402
from backend.jobs.models import Job  # noqa: E402
from backend.meta.dictionaries import label  # noqa: E402
from backend.screenings.idcard import make_id_number  # noqa: E402
from bench.load import drop_database, fresh_database  # noqa: E402
from bench.screening_import import build_tree  # noqa: E402

CATEGORIES = ["left_behind_both_parents"] * 5 + ["left_behind_one_parent"] * 3 + ["hardship", "orphan"]


def workbook(rows: int, villages) -> bytes:
    rng = random.Random(11)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(imports.TITLE)
    ws.append([c[1] for c in imports.COLUMNS])
    for i in range(rows):
        born = date(2011, 1, 1) + timedelta(days=rng.randrange(0, 11 * 365))
        # Every hundredth row carries a broken checksum: it must land in the failed-rows sheet.
        number = make_id_number(f"43{(i // 500) % 90 + 10:02d}25", born, (i * 2 + 1) % 1000)
        if i % 100 == 99:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")
        ws.append(
            [
                f"儿童{i}",
                number,
                label("child_category", CATEGORIES[i % len(CATEGORIES)]),
                f"第{i % 40}小学",
                f"{i % 6 + 1}年级",
                label("guardian_relation", "grandparent"),
                f"监护人{i}",
                f"138{i:08d}",
                label("parent_work_place", "out_of_province"),
                "东莞",
                f"137{i:08d}",
                label("parent_work_place", "in_province"),
                "长沙",
                f"136{i:08d}",
                "否",
                "否",
                "否",
                villages[i % len(villages)].code,
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def timed_job(db: Database, principal: Principal, data: bytes) -> tuple[float, Job]:
    with db.session(write=True) as session:
        job = jobs.create_job(session, principal, imports.CHILDREN_JOB, filename="bench.xlsx", payload=data)
    start = time.perf_counter()
    jobs.run_job(db, job.id)
    took = time.perf_counter() - start
    with db.session() as session:
        return took, session.get(Job, job.id)


def run(url: str, rows: int, label_: str) -> None:
    upgrade(url)
    db = Database(make_engine(url))
    user, villages = build_tree(db)
    data = workbook(rows, villages)
    principal = Principal(
        kind="user",
        id=user.id,
        name="基准",
        role="county_admin",
        branch_id=user.branch_id,
        branch_depth=1,
        branch_path="",
        permissions=frozenset({"children:read", "children:write"}),
    )
    for attempt in ("first import", "the same file again"):
        took, job = timed_job(db, principal, data)
        with db.session() as session:
            stored = session.execute(sa.select(sa.func.count()).select_from(Child)).scalar_one()
        print(
            f"{label_}: {attempt}: {rows} rows in {took:.1f} s ({rows / took:.0f} rows/s); status={job.status}, "
            f"done={job.rows_done}, failed={job.rows_failed}, result={job.result}; children stored {stored}",
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
    for kind, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        if kind == "postgresql" and args.skip_pg:
            break
        url = fresh_database(kind, Path(tempfile.mkdtemp(prefix="halfsky-bench-")), args.pg)
        try:
            run(url, args.rows, name)
        finally:
            drop_database(url, args.pg)


if __name__ == "__main__":
    main()
