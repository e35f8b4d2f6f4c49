"""How long `halfsky rotate-pii-key` takes for N women (ID number and phone each encrypted and indexed).

    .venv/bin/python bench/rotate_pii.py [--db sqlite|postgres|both] [--women 100000] [--batch-size 500]

For each database: a fresh database, N women written under key A in bulk, then the rotation to key B run as the
operator runs it (`halfsky rotate-pii-key` with PII_KEY=B and PII_OLD_KEYS=A), timed end to end, and checked:
nothing is left under key A. `fill` is also what tests/core/test_key_rotation.py writes its women with.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_SERVER = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int) -> str:
    """A valid resident ID number (GB 11643 checksum), distinct for each serial below 36,500,000."""
    born = date(1950, 1, 1) + timedelta(days=serial // 1000)
    body = f"430725{born:%Y%m%d}{serial % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def fill(url: str, women: int, *, chunk: int = 2000) -> SimpleNamespace:
    """A county, one village and `women` women in it, encrypted under the PII_KEY of the current settings."""
    from sqlmodel import Session

    from backend.branches.models import Branch, BranchKind
    from backend.branches.service import place_under
    from backend.core.db import make_engine, utcnow
    from backend.screenings import bulk
    from backend.screenings.models import Woman

    engine = make_engine(url)
    with Session(engine) as session:
        county = Branch(name="轮换县", kind=BranchKind.county, code=f"R{uuid.uuid4().hex[:6]}")
        place_under(county, None)
        session.add(county)
        session.flush()
        village = Branch(name="轮换村", kind=BranchKind.village)
        place_under(village, county)
        session.add(village)
        session.commit()
        session.refresh(county)
        session.refresh(village)
    now = utcnow()
    people = []
    with engine.begin() as conn:
        for start in range(0, women, chunk):
            rows = []
            for serial in range(start, min(women, start + chunk)):
                person = SimpleNamespace(
                    name=f"妇女{serial}", id_number=id_number(serial), phone=f"139{serial:08d}"
                )
                rows.append(bulk._new_woman(person, village, now))
                people.append(person)
            conn.execute(sa.insert(Woman.__table__), rows)
    engine.dispose()
    return SimpleNamespace(county=county, village=village, people=people)


def rotate_cli(url: str, new_key: str, old_key: str, *args: str, **popen) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PII_KEY": new_key,
        "PII_OLD_KEYS": old_key,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "rotate-pii-key", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def _database(kind: str) -> tuple[str, callable]:
    from backend.core.db import make_engine

    if kind == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='halfsky-rotate-')) / 'r.db'}", lambda: None
    admin = make_engine(PG_SERVER, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"halfsky_rotate_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return sa.make_url(make_engine(PG_SERVER).url).set(database=name).render_as_string(
        hide_password=False
    ), drop


def run(kind: str, women: int, batch_size: int) -> dict:
    from backend.core.config import get_settings
    from backend.core.migrate import upgrade

    old, new = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    url, drop = _database(kind)
    try:
        upgrade(url)
        get_settings().pii_key = old
        started = time.perf_counter()
        fill(url, women)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        proc = rotate_cli(url, new, old, "--batch-size", str(batch_size))
        out, err = proc.communicate()
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"rotation failed: {err}")
        report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
        return {
            "db": kind,
            "women": women,
            "batch_size": batch_size,
            "fill_s": round(filled, 1),
            "rotate_s": round(seconds, 1),
            "rows_per_s": round(women / seconds),
            "rewritten": report["rewritten"],
            "left": report["left"],
        }
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--women", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    for kind in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        print(json.dumps(run(kind, args.women, args.batch_size), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
