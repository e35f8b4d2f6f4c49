"""Forty phones and office users at once against the real server on a real socket, on each database.

The same driver as `bench/load.py`, for a few seconds: no answer may be a 5xx, no connection may drop,
and every write the server acknowledged is stored exactly once.
"""

import asyncio
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import load  # noqa: E402

KIND = "postgres" if os.environ.get("TEST_DB") == "postgres" else "sqlite"
PG_SERVER = os.environ.get("TEST_DATABASE_URL") or load.PG_SERVER


@pytest.fixture(scope="module")
def demo_template():
    with load.demo_database(KIND, PG_SERVER) as url:
        yield url


def test_forty_concurrent_clients_get_no_5xx_and_every_acknowledged_write_is_stored_once(demo_template):
    clients, seconds = 40, 4
    with load.served(KIND, pg_server=PG_SERVER, template=demo_template) as server:
        tally = asyncio.run(load.drive(server.base, clients, seconds))
        checks = load.stored(server.database_url, tally)
        log = server.log.read_text(errors="replace")
    print(load.report(KIND, clients, seconds, tally, checks))
    assert sum(tally.statuses.values()) > clients * 3, tally.statuses
    assert set(tally.statuses) <= {200, 201}, tally.statuses
    assert not tally.failures, tally.failures
    for label, (acknowledged, found, doubled) in checks.items():
        assert acknowledged > 0, label
        assert (found, doubled) == (acknowledged, 0), label
    assert "Traceback" not in log


def test_past_the_admission_queue_the_answer_is_503_with_retry_after(demo_template):
    """With one thread and no room to queue, requests beyond the running one are refused at once, say when
    to come back, and what the server did acknowledge is stored once."""
    overload = {"WORKER_THREADS": "1", "ADMISSION_QUEUE": "0"}
    with load.served(KIND, pg_server=PG_SERVER, template=demo_template, env=overload) as server:
        tally = asyncio.run(load.drive(server.base, 16, 2))
        checks = load.stored(server.database_url, tally)
    assert tally.statuses[503] > 0, tally.statuses
    assert tally.retry_after_missing == 0
    assert set(tally.statuses) <= {200, 201, 503}, tally.statuses
    assert not tally.failures, tally.failures
    for label, (acknowledged, found, doubled) in checks.items():
        assert (found, doubled) == (acknowledged, 0), label


def test_logins_refreshes_and_reveals_at_once_count_every_write(demo_template):
    """Requests that read and then write: each failed login counts toward the lockout, a refresh token
    presented twice at once rotates once (the other is a reuse), every reveal leaves its audit row."""
    import httpx
    import sqlalchemy as sa

    from backend.core.db import make_engine

    async def scenario(base: str) -> dict:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:

            def login(username: str, password: str = load.PASSWORD):
                return http.post(
                    "/api/v1/auth/token",
                    data={"grant_type": "password", "username": username, "password": password},
                )

            good = [login(name) for name in load.PEOPLE * 3]
            bad = [login("leader", "wrong-password-1") for _ in range(8)]
            answers = await asyncio.gather(*good, *bad)
            admin = (await login("county.admin")).json()
            headers = {"Authorization": f"Bearer {admin['access_token']}"}
            woman = (await http.get("/api/v1/women?limit=1", headers=headers)).json()["items"][0]["id"]
            reveals = await asyncio.gather(
                *(http.get(f"/api/v1/women/{woman}/pii", headers=headers) for _ in range(12))
            )
            refreshes = await asyncio.gather(
                *(
                    http.post("/api/v1/auth/refresh", json={"refresh_token": admin["refresh_token"]})
                    for _ in range(6)
                )
            )
            return {
                "good": [r.status_code for r in answers[: len(good)]],
                "bad": [r.status_code for r in answers[len(good) :]],
                "reveals": [r.status_code for r in reveals],
                "woman": woman,
                "refreshes": [r.status_code for r in refreshes],
            }

    with load.served(KIND, pg_server=PG_SERVER, template=demo_template) as server:
        seen = asyncio.run(scenario(server.base))
        engine = make_engine(server.database_url, pool_size=1)
        with engine.connect() as conn:

            def count(sql: str, **params) -> int:
                return conn.execute(sa.text(sql), params).scalar_one()

            failed = count("SELECT count(*) FROM audit_log WHERE action = 'login_failed'")
            locked = count(
                'SELECT count(*) FROM "user" WHERE username = :u AND locked_until IS NOT NULL', u="leader"
            )
            revealed = count(
                "SELECT count(*) FROM audit_log WHERE action = 'reveal' AND entity_id = :id",
                id=str(seen["woman"]),
            )
            reused = count("SELECT count(*) FROM audit_log WHERE action = 'refresh_reuse'")
        engine.dispose()
        log = server.log.read_text(errors="replace")
    assert seen["good"] == [200] * len(load.PEOPLE) * 3
    assert seen["bad"] == [401] * 8
    assert (failed, locked) == (8, 1)  # five failures lock her; the three after are refused as locked
    assert seen["reveals"] == [200] * 12 and revealed == 12
    assert sorted(seen["refreshes"]) == [200] + [401] * 5
    assert reused >= 1
    assert "Traceback" not in log


def test_kill_9_of_the_server_among_writing_phones_loses_nothing_and_stores_nothing_twice(demo_template):
    """Phones resend each form with its Idempotency-Key until they get an answer, as the outbox does; the
    server is killed with SIGKILL in the middle and started again. Every form ends stored exactly once."""
    import time
    import uuid

    import httpx
    import sqlalchemy as sa

    from backend.core.db import make_engine

    async def phones(server) -> tuple[set[str], set[str]]:
        sent: set[str] = set()
        acknowledged: set[str] = set()
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            token = (
                await http.post(
                    "/api/v1/auth/token",
                    data={"grant_type": "password", "username": "village.rep", "password": load.PASSWORD},
                )
            ).json()["access_token"]
            stop = time.monotonic() + 5

            async def phone(i: int) -> None:
                n = 0
                while time.monotonic() < stop:
                    n += 1
                    title, key = f"crash-{i}-{n}", uuid.uuid4().hex
                    sent.add(title)
                    for _ in range(300):
                        try:
                            r = await http.post(
                                "/api/v1/activities",
                                json={"type": "health_talk", "title": title},
                                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                            )
                        except httpx.HTTPError:
                            await asyncio.sleep(0.1)
                            continue
                        kind = r.json().get("type", "") if r.status_code == 409 else ""
                        if r.status_code == 201 or kind.endswith("idempotency-completed"):
                            acknowledged.add(title)
                            break
                        assert r.status_code == 503 or kind.endswith("idempotency-in-progress"), r.text
                        await asyncio.sleep(0.1)

            async def power_cut() -> None:
                await asyncio.sleep(1.5)
                await asyncio.to_thread(server.kill)
                await asyncio.to_thread(server.start)

            await asyncio.gather(*(phone(i) for i in range(8)), power_cut())
        return sent, acknowledged

    with load.served(
        KIND, pg_server=PG_SERVER, template=demo_template, env={"IDEMPOTENCY_LEASE_SECONDS": "2"}
    ) as server:
        sent, acknowledged = asyncio.run(phones(server))
        engine = make_engine(server.database_url, pool_size=1)
        with engine.connect() as conn:
            stored = dict(
                conn.execute(
                    sa.text("SELECT title, count(*) FROM activity WHERE title LIKE 'crash-%' GROUP BY title")
                ).all()
            )
        engine.dispose()
    assert len(sent) > 16
    assert acknowledged == sent
    assert stored == dict.fromkeys(sent, 1)
