"""The many-machine rehearsal of bench/cluster.py, short: nginx round-robin over two `halfsky serve` processes
that share nothing but PostgreSQL and an S3 bucket, two `halfsky worker`s beside them."""

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import cluster  # noqa: E402

from tests.conftest import _postgres_url  # noqa: E402


@pytest.fixture(scope="module")
def rehearsal():
    pg = _postgres_url()
    if not pg:
        pytest.skip(
            "needs PostgreSQL (TEST_DB=postgres): processes on several machines share one PostgreSQL, "
            "and procrastinate's workers run there"
        )
    if not (shutil.which("nginx") or os.path.exists(cluster.NGINX)):
        pytest.skip("needs Debian's nginx (apt-get install nginx; .ci/run installs it)")
    pytest.importorskip("moto.server")
    with cluster.cluster(pg_server=pg, env=cluster.REHEARSAL) as c:
        yield cluster.rehearse(c, writers=4, seconds=5)


def test_a_token_from_one_process_works_on_the_other(rehearsal):
    seen = rehearsal["token"]
    assert len(seen["answers"]) == 2 and set(seen["answers"].values()) == {200}


def test_a_photo_uploaded_through_one_is_read_through_the_other(rehearsal):
    photo = rehearsal["photo"]
    assert {up for up, *_ in photo["reads"]} - {photo["uploaded_on"]}, "every read went to the uploader"
    assert all(status == 200 and same for _, status, _, same in photo["reads"])
    assert [kind for _, _, kind, _ in photo["reads"]] == ["image/png"] * 2 + ["image/jpeg"] * 2
    assert rehearsal["media_dirs_empty"], "a process wrote a photo to its own folder"


def test_a_resend_across_both_processes_is_one_record(rehearsal):
    seen = rehearsal["idempotency"]
    answers = seen["answers"]
    assert len({up for up, *_ in answers}) == 2
    assert [(status, record) for _, status, record, _ in answers] == [(201, answers[0][2])] * 3
    assert [replayed for *_, replayed in answers] == [None, "true", "true"]
    assert seen["records"] == 1


def test_each_webhook_event_is_delivered_once(rehearsal):
    delivered = rehearsal["calm_deliveries"]
    assert len(delivered) == 10 and set(delivered.values()) == {1}


def test_kill_9_of_one_api_process_and_one_worker_loses_nothing(rehearsal):
    assert rehearsal["stored"]["acknowledged"] > 0
    assert rehearsal["stored"]["stored"] == rehearsal["stored"]["acknowledged"]
    assert rehearsal["stored"]["twice"] == 0
    # Every event written, before and after the kill, reached the receiver (at least once: a delivery in
    # flight in the killed worker is sent again with the same webhook-id).
    assert rehearsal["events"]["written"] >= 10 + rehearsal["stored"]["acknowledged"]
    assert rehearsal["events"]["missing"] == 0


def test_the_other_pair_carries_on(rehearsal):
    assert rehearsal["alive"] == {"apis": [False, True], "workers": [False, True]}
    survivor = {up for up, _ in rehearsal["after_kill"]}
    assert survivor != {rehearsal["killed"]["api"]} and [s for _, s in rehearsal["after_kill"]] == [200] * 4
    assert rehearsal["periodic"]["after_kill"]["queue.retry_stalled"] >= 2
    assert rehearsal["tracebacks"] == {}


def test_each_periodic_task_runs_once_per_period_across_both_workers(rehearsal):
    periodic = rehearsal["periodic"]
    assert {"tickets.sla_sweep", "webhooks.dispatch", "queue.retry_stalled"} <= set(periodic["tasks"])
    assert periodic["duplicated"] == []
