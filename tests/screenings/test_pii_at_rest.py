"""A stolen database file or dump must not give away the women's ID numbers or phones."""

import io
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from backend.core.db import Database, make_engine
from backend.core.migrate import upgrade
from backend.main import create_app
from tests.conftest import Api, make_branch, make_client_account, make_user
from tests.screenings.conftest import idn

PHONES = ["13911112222", "13733334444", "13555556666"]
NUMBERS = [idn(701), idn(702), idn(703)]


def _fill(url: str) -> None:
    """Register women every way there is (form, batch, Excel import) and reveal one, with real commits."""
    from backend.branches.models import BranchKind
    from backend.core.queue import run_due_now

    engine = make_engine(url)
    db = Database(engine)
    with db.factory() as session:
        county = make_branch(session, None, "县", BranchKind.county, "P1")
        village = make_branch(session, county, "村", BranchKind.village, "P11")
        cadre = make_user(session, county, "county_admin")
        bureau = make_client_account(session, county, "health_bureau", "hb-pii")
        session.commit()
        village_id = village.id
        cadre_acc, bureau_acc = cadre, bureau
    app = create_app(db)
    person = Api(app, cadre_acc, None)
    machine = Api(app, bureau_acc, None)
    r = person.post(
        "/api/v1/women",
        json={"name": "甲", "id_number": NUMBERS[0], "phone": PHONES[0], "branch_id": village_id},
        headers={"Idempotency-Key": "k1"},
    )
    assert r.status_code == 201, r.text
    assert person.get(f"/api/v1/women/{r.json()['id']}/pii").json()["id_number"] == NUMBERS[0]
    batch = machine.post(
        "/api/v1/screenings/batch",
        json={
            "rows": [
                {
                    "external_id": "E1",
                    "id_number": NUMBERS[1],
                    "name": "乙",
                    "phone": PHONES[1],
                    "branch_id": village_id,
                    "kind": "cervical",
                    "screened_on": "2025-05-01",
                    "result": "abnormal",
                    "tbs": "HSIL",
                }
            ]
        },
    )
    assert batch.json()["items"][0]["outcome"] == "created", batch.text
    wb = Workbook()
    wb.active.append(["姓名", "身份证号", "联系电话"])
    wb.active.append(["丙", NUMBERS[2], PHONES[2]])
    wb.active.append(["丁", NUMBERS[2][:17] + "0", PHONES[2]])  # fails: its row goes to the failed sheet
    buf = io.BytesIO()
    wb.save(buf)
    job = person.post(
        "/api/v1/women/imports",
        files={"file": ("w.xlsx", buf.getvalue(), "application/octet-stream")},
        data={"branch_id": str(village_id)},
    )
    run_due_now(db)
    assert person.get(f"/api/v1/jobs/{job.json()['id']}").json()["rows_failed"] == 1
    engine.dispose()


def _assert_clean(blob: bytes) -> None:
    assert b"\xe4\xb9\x99" in blob  # the name 乙 is there: we are looking at the data
    for secret in NUMBERS + PHONES + [n[:17] + "0" for n in NUMBERS]:
        assert secret.encode() not in blob, secret
        assert secret.encode("utf-16-le") not in blob, secret


def test_sqlite_file_holds_no_clear_id_number_or_phone():
    tmp = Path(tempfile.mkdtemp(prefix="halfsky-pii-"))
    url = f"sqlite:///{tmp / 'pii.db'}"
    upgrade(url)
    _fill(url)
    blob = b"".join(p.read_bytes() for p in tmp.iterdir())
    _assert_clean(blob)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_postgresql_dump_holds_no_clear_id_number_or_phone():
    server = os.environ["TEST_DATABASE_URL"]
    admin = make_engine(server, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"halfsky_pii_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(make_engine(server).url).set(database=name)
    try:
        upgrade(url.render_as_string(hide_password=False))
        _fill(url.render_as_string(hide_password=False))
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run(
            ["pg_dump", "--no-owner", libpq], capture_output=True, check=True, timeout=60
        ).stdout
        _assert_clean(dump)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
