"""Past capacity the answer is 503 with Retry-After, never a 500, and the request did not run."""

import asyncio

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.core.deps import Public, SessionDep
from backend.core.errors import Overloaded, install_error_handlers, is_busy_database
from backend.core.uow import Admission, Router


def _app(db, error: Exception) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    install_error_handlers(app)
    router = Router()

    @router.post("/work", dependencies=[Public])
    def work(session: SessionDep):
        session.execute(sa.text("SELECT 1"))
        raise error

    app.include_router(router)
    return app


@pytest.mark.parametrize(
    "error",
    [
        sa.exc.TimeoutError("QueuePool limit of size 8 overflow 0 reached, connection timed out"),
        sa.exc.OperationalError("INSERT ...", {}, Exception("database is locked")),
        sa.exc.OperationalError(
            "SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True
        ),
    ],
    ids=["pool-timeout", "sqlite-locked", "connection-lost"],
)
def test_a_busy_database_answers_503_with_retry_after(db, error):
    r = TestClient(_app(db, error)).post("/work")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["type"] == "urn:halfsky:problem:overloaded"


def test_other_database_errors_are_not_taken_for_overload():
    assert not is_busy_database(sa.exc.OperationalError("SELECT", {}, Exception("no such table: x")))
    assert not is_busy_database(ValueError("database is locked"))


def test_admission_queues_up_to_its_limit_then_refuses_at_once_and_times_out():
    async def scenario():
        admission = Admission(capacity=1, queue=1, timeout=0.3)
        release = asyncio.Event()
        outcomes: list[str] = []

        async def unit(name: str, hold: bool):
            try:
                async with admission.slot():
                    outcomes.append(f"{name}:ran")
                    if hold:
                        await release.wait()
            except Overloaded as exc:
                outcomes.append(f"{name}:503 after {exc.headers['Retry-After']}s")

        first = asyncio.create_task(unit("first", True))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(unit("second", False))  # waits in the queue
        await asyncio.sleep(0.01)
        await unit("third", False)  # the queue is full: refused at once
        assert outcomes == ["first:ran", "third:503 after 1s"]
        await second  # its time limit passes while the first still runs
        assert outcomes[-1].startswith("second:503")
        release.set()
        await first
        await unit("fourth", False)  # capacity is back
        assert outcomes[-1] == "fourth:ran"
        assert (admission.running, admission.waiting) == (0, 0)

    asyncio.run(scenario())
