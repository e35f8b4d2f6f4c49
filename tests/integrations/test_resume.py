"""An import whose worker dies part-way resumes after its last committed chunk, and is never left running."""

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from sqlmodel import func, select

from backend.core.db import utcnow
from backend.core.queue import run_due_now
from backend.core.queue_models import TaskRun
from backend.jobs import service as jobs
from backend.jobs.models import Job
from backend.screenings import imports
from backend.screenings.models import Woman
from tests.conftest import make_user, principal_for
from tests.screenings.conftest import idn


class WorkerKilled(BaseException):
    """What the rest of a chunk sees of `kill -9`: nothing after this point runs."""


def _women_file(n: int) -> bytes:
    wb = Workbook()
    wb.active.append(["姓名", "身份证号"])
    for i in range(n):
        # idn() has 500 sequence numbers a birth date: vary the date so every row is a different woman.
        born = date(1970, 1, 1) + timedelta(days=i // 400)
        wb.active.append([f"女{i}", "110105194912310021" if i == 3 else idn(i % 400, born)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _women(session) -> int:
    return session.exec(select(func.count()).select_from(Woman)).one()


def test_an_import_killed_part_way_resumes_and_completes(session, db, tree, monkeypatch):
    cadre = make_user(session, tree.town_a, "cadre")
    principal = principal_for(cadre, tree.town_a)
    monkeypatch.setattr(imports, "CHUNK", 20)
    job = jobs.create_job(
        session,
        principal,
        imports.WOMEN_JOB,
        payload=_women_file(50),
        options={"branch_id": tree.village_a1.id},
    )
    session.commit()
    real_chunk, calls = imports._women_chunk, []

    def dies_in_the_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise WorkerKilled
        return real_chunk(*args)

    monkeypatch.setattr(imports, "_women_chunk", dies_in_the_second_chunk)
    with pytest.raises(WorkerKilled):
        run_due_now(db)
    session.expire_all()
    stuck = session.get(Job, job.id)
    assert (stuck.status, stuck.rows_done, stuck.rows_failed) == (
        "running",
        20,
        1,
    )  # the first chunk committed
    assert _women(session) == 19

    monkeypatch.setattr(imports, "_women_chunk", real_chunk)
    if db.dialect == "sqlite":
        # The dead runner's lease runs out; the next runner claims the same run again.
        session.execute(sa.update(TaskRun).values(lease_until=utcnow() - timedelta(seconds=1)))
        session.commit()
        assert run_due_now(db) == 1
    else:
        jobs.run_job(db, job.id)  # what procrastinate's retry of the stalled job runs
    session.expire_all()
    done = session.get(Job, job.id)
    assert (done.status, done.rows_done, done.rows_failed, done.attempts) == ("done", 50, 1, 2)
    assert done.result["rows"] == 50 and done.result["created"] == 49
    assert _women(session) == 49  # every row once: none lost, none twice
    assert done.failed_sheet and done.failed_so_far is None
    from backend.integrations.models import Event

    [finished] = session.exec(select(Event).where(Event.type == "job.finished")).all()
    assert finished.data == {
        "job_id": job.id,
        "kind": imports.WOMEN_JOB,
        "status": "done",
        "rows_done": 50,
        "rows_failed": 1,
    }


def test_a_job_that_keeps_dying_ends_failed_with_the_reason(session, db, tree):
    cadre = make_user(session, tree.town_a, "cadre")
    job = jobs.create_job(
        session, principal_for(cadre, tree.town_a), imports.WOMEN_JOB, payload=_women_file(5)
    )
    job.status, job.attempts, job.rows_done = "running", jobs.MAX_JOB_ATTEMPTS, 0
    session.commit()
    jobs.run_job(db, job.id)
    session.expire_all()
    failed = session.get(Job, job.id)
    assert failed.status == "failed" and "中断" in failed.error and failed.finished_at
