"""Sync in one thread hop, or async all the way? The same request on both stacks, same run, same machine.

    .venv/bin/python bench/request_model.py [--db sqlite|postgres|both] [--seconds 10] [--connections 16]

Needs `aiosqlite` and `greenlet` for the async stack (`pip install aiosqlite greenlet`; psycopg 3 has its
own async driver).
On a fresh demo county, one uvicorn process serves two endpoints doing the same work as a scoped list:
look the caller up (one indexed row), read the county's newest 50 activities with the organiser's name,
count them (capped), and answer JSON bytes.

- `/sync`: SQLAlchemy's sync engine (pysqlite / psycopg), all three queries and the commit in ONE trip to a
  worker thread (`anyio.to_thread.run_sync`), the model HalfSky's routes use (backend.core.uow);
- `/async`: SQLAlchemy asyncio (aiosqlite / psycopg async), awaited on the event loop.

wrk drives each with 16 connections; the bare FastAPI reference is measured in the same run.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpbench import bare_server, free_port, row, run_on_databases, wait_until_up, wrk  # noqa: E402
from load import served  # noqa: E402

APP = """
import os

import anyio.to_thread
import pydantic_core
import sqlalchemy as sa
from fastapi import FastAPI, Response
from sqlalchemy.ext.asyncio import create_async_engine

SYNC_URL = os.environ["SYNC_URL"]
ASYNC_URL = os.environ["ASYNC_URL"]
THREADS = 4
sync_engine = sa.create_engine(SYNC_URL, pool_size=THREADS, max_overflow=0)
async_engine = create_async_engine(ASYNC_URL, pool_size=THREADS, max_overflow=0)
app = FastAPI()

WHO = sa.text('SELECT u.id, u.role, u.is_active, b.depth, b.path FROM "user" u JOIN branch b '
              'ON b.id = u.branch_id WHERE u.username = :username')
PAGE = sa.text("SELECT a.*, (SELECT name FROM branch WHERE branch.id = a.branch_id) AS branch_name FROM activity a "
               "WHERE a.a4 = :county AND a.deleted_at IS NULL ORDER BY a.created_at DESC LIMIT 50")
COUNT = sa.text("SELECT count(*) FROM (SELECT 1 FROM activity WHERE a4 = :county AND deleted_at IS NULL "
                "LIMIT 10001) AS capped")
COUNTY = int(os.environ["COUNTY_ID"])


def body(rows, total):
    return pydantic_core.to_json({"items": [dict(r._mapping) for r in rows], "total": total})


def sync_work():
    with sync_engine.connect() as conn:
        conn.execute(WHO, {"username": "county.admin"}).one()
        rows = conn.execute(PAGE, {"county": COUNTY}).all()
        total = conn.execute(COUNT, {"county": COUNTY}).scalar_one()
        conn.commit()
    return body(rows, total)


@app.get("/sync")
async def sync_list():
    return Response(await anyio.to_thread.run_sync(sync_work), media_type="application/json")


@app.get("/async")
async def async_list():
    async with async_engine.connect() as conn:
        (await conn.execute(WHO, {"username": "county.admin"})).one()
        rows = (await conn.execute(PAGE, {"county": COUNTY})).all()
        total = (await conn.execute(COUNT, {"county": COUNTY})).scalar_one()
        await conn.commit()
    return Response(body(rows, total), media_type="application/json")


@app.on_event("startup")
async def limit_threads():
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
"""


def urls(database_url: str) -> tuple[str, str]:
    if database_url.startswith("sqlite"):
        return database_url, database_url.replace("sqlite://", "sqlite+aiosqlite://")
    pg = database_url.replace("postgresql://", "postgresql+psycopg://")
    return pg, pg


def county_id(database_url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(urls(database_url)[0])
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT branch_id FROM \"user\" WHERE username = 'county.admin'")
        ).scalar_one()
    engine.dispose()
    return value


def measure(kind: str, seconds: float, connections: int) -> list[str]:
    with bare_server() as bare_url, served(kind, workers=1) as server:
        directory = Path(tempfile.mkdtemp(prefix="halfsky-model-"))
        (directory / "model_app.py").write_text(APP)
        sync_url, async_url = urls(server.database_url)
        env = {
            **os.environ,
            "SYNC_URL": sync_url,
            "ASYNC_URL": async_url,
            "COUNTY_ID": str(county_id(server.database_url)),
        }
        port = free_port()
        log = directory / "uvicorn.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "model_app:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "info",
                ],
                cwd=directory,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/sync", proc, log)
            results = [("bare FastAPI", wrk(bare_url, seconds=seconds, connections=connections))]
            for name in ("sync", "async"):
                wrk(f"{base}/{name}", seconds=2, connections=connections)
                results.append(
                    (
                        f"{name}: lookup + 50 rows + count",
                        wrk(f"{base}/{name}", seconds=seconds, connections=connections),
                    )
                )
        finally:
            proc.terminate()
            proc.wait(10)
    bare_rps = results[0][1]["rps"]
    return [f"{kind}: one process, c={connections}, {seconds:.0f} s per line"] + [
        row(name, result, bare_rps) for name, result in results
    ]


def main() -> None:
    run_on_databases(__doc__, measure)


if __name__ == "__main__":
    main()
