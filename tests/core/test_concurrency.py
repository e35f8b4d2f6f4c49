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
