import asyncio
from datetime import date

import pytest
from sqlmodel import func, select

from backend.auth.roles import permissions_for
from backend.core.deps import require
from backend.core.errors import Forbidden
from backend.screenings.models import ScreeningRecord, Woman
from tests.conftest import Api, make_client_account, principal_for
from tests.screenings.conftest import idn


@pytest.fixture
def bureau(app, session, tree):
    return Api(app, make_client_account(session, tree.county, "health_bureau", "health-test"), tree.county)


@pytest.fixture
def civil(app, session, tree):
    return Api(app, make_client_account(session, tree.county, "civil_affairs", "civil-test"), tree.county)


def row(ext: str, seq: int, branch, **extra) -> dict:
    return {
        "external_id": ext,
        "id_number": idn(seq),
        "name": f"批量{seq}",
        "phone": f"1370000{seq:04d}",
        "branch_id": branch.id,
        "kind": "cervical",
        "screened_on": date.today().isoformat(),
        "institution": "县人民医院",
        "method": "cytology",
        "result": "normal",
        "tbs": "NILM",
        **extra,
    }


def test_each_row_gets_its_own_answer(bureau, tree, session):
    rows = [
        row("H-1", 1, tree.village_a1),
        row("H-2", 2, tree.village_b1, result="abnormal", tbs="HSIL"),
        row("H-3", 3, tree.village_a2, id_number="110105194912310021"),  # wrong check character
        row("H-4", 4, tree.village_a1, result="normal", tbs="HSIL"),  # contradiction
        row("H-5", 5, tree.village_a1, kind="breast", method="ultrasound", tbs=None, birads=7),
        {"external_id": "H-6"},
        row("H-1", 6, tree.village_a1),  # repeated in the batch
    ]
    r = bureau.post("/api/v1/screenings/batch", json={"rows": rows})
    assert r.status_code == 200, r.text
    body = r.json()
    outcomes = [(i["external_id"], i["outcome"], i.get("field")) for i in body["items"]]
    assert outcomes == [
        ("H-1", "created", None),
        ("H-2", "created", None),
        ("H-3", "error", "id_number"),
        ("H-4", "error", "result"),
        ("H-5", "error", "birads"),
        ("H-6", "error", "id_number"),
        ("H-1", "error", "external_id"),
    ]
    assert "校验位" in body["items"][2]["error"] and "HSIL" in body["items"][3]["error"]
    assert body["created"] == 2 and body["errors"] == 5
    # New women were registered on the way, in the rows' villages, and the abnormal one has a follow-up.
    women = session.exec(select(Woman).where(Woman.name.in_(["批量1", "批量2"]))).all()
    assert sorted(w.branch_id for w in women) == sorted([tree.village_a1.id, tree.village_b1.id])
    fu = bureau.get(f"/api/v1/screenings/{body['items'][1]['id']}").json()["follow_up_id"]
    assert fu is not None


def test_resending_changes_nothing_and_changes_are_updates(bureau, tree, session):
    rows = [
        row("R-1", 11, tree.village_a1),
        row("R-2", 12, tree.village_a1, kind="breast", method="mammography", tbs=None, birads=1),
    ]
    first = bureau.post("/api/v1/screenings/batch", json={"rows": rows}).json()
    count = session.exec(select(func.count()).select_from(ScreeningRecord)).one()
    women = session.exec(select(func.count()).select_from(Woman)).one()
    again = bureau.post("/api/v1/screenings/batch", json={"rows": rows}).json()
    assert [i["outcome"] for i in again["items"]] == ["unchanged", "unchanged"]
    assert [i["id"] for i in again["items"]] == [i["id"] for i in first["items"]]
    assert session.exec(select(func.count()).select_from(ScreeningRecord)).one() == count
    assert session.exec(select(func.count()).select_from(Woman)).one() == women
    rows[0]["result"], rows[0]["tbs"] = "abnormal", "ASC-US"
    third = bureau.post("/api/v1/screenings/batch", json={"rows": rows}).json()
    assert [i["outcome"] for i in third["items"]] == ["updated", "unchanged"]
    assert bureau.get(f"/api/v1/screenings/{third['items'][0]['id']}").json()["follow_up_id"]


def test_a_bad_row_does_not_spoil_the_others(bureau, tree, session):
    # The same ID number under another external id is the same woman (no second registration).
    rows = [
        row("S-1", 21, tree.village_a1),
        row("S-2", 21, tree.village_a1, kind="breast", method="ultrasound", tbs=None, birads=2),
        row("S-3", 22, tree.village_a1, branch_id=999999),
        row("S-4", 23, tree.village_a2),
    ]
    body = bureau.post("/api/v1/screenings/batch", json={"rows": rows}).json()
    assert [i["outcome"] for i in body["items"]] == ["created", "created", "error", "created"]
    assert body["items"][2]["field"] == "branch_id"
    assert session.exec(select(func.count()).select_from(Woman).where(Woman.name == "批量21")).one() == 1


def test_batch_limits(bureau, tree):
    too_many = bureau.post(
        "/api/v1/screenings/batch", json={"rows": [{"external_id": str(i)} for i in range(1001)]}
    )
    assert too_many.status_code == 422
    assert bureau.post("/api/v1/screenings/batch", json={"rows": []}).status_code == 422


def test_batch_outside_the_clients_scope_is_an_error_row(app, session, tree):
    township_bureau = Api(
        app, make_client_account(session, tree.town_a, "health_bureau", "hb-town-a"), tree.town_a
    )
    body = township_bureau.post(
        "/api/v1/screenings/batch", json={"rows": [row("O-1", 31, tree.village_b1)]}
    ).json()
    assert body["items"][0]["outcome"] == "error" and body["items"][0]["field"] == "branch_id"


def test_only_the_bureau_may_post_batches(login, tree, civil):
    rows = {"rows": [row("P-1", 41, tree.village_a1)]}
    assert login("county_admin", tree.county).post("/api/v1/screenings/batch", json=rows).status_code == 403
    assert login("cadre", tree.town_a).post("/api/v1/screenings/batch", json=rows).status_code == 403
    assert civil.post("/api/v1/screenings/batch", json=rows).status_code == 403


def test_machine_clients_cannot_touch_tickets_or_members(bureau, civil, tree, session):
    for role in ("health_bureau", "civil_affairs"):
        granted = permissions_for(role)
        assert not {p for p in granted if p.startswith(("tickets:", "members:"))}
    for client in (bureau, civil):
        principal = principal_for(client.account, tree.county)
        for permission in ("tickets:read", "tickets:write", "members:read", "members:write"):
            with pytest.raises(Forbidden):
                asyncio.run(require(permission)(principal))
        for path in ("/api/v1/tickets", "/api/v1/members"):
            assert client.get(path).status_code == 403
            assert client.post(path, json={}).status_code == 403
    # What each client is for, and nothing of the other's.
    assert civil.get("/api/v1/screenings").status_code == 403
    assert civil.get("/api/v1/follow-ups").status_code == 403
    assert bureau.get("/api/v1/aid-applications").status_code == 403
    assert bureau.get("/api/v1/women/1/pii").status_code == 403
    assert bureau.get("/api/v1/screenings").status_code == 200


def test_resend_with_the_same_idempotency_key_replays(bureau, tree):
    rows = {"rows": [row("K-1", 51, tree.village_a1)]}
    first = bureau.post("/api/v1/screenings/batch", json=rows, headers={"Idempotency-Key": "batch-77"})
    second = bureau.post("/api/v1/screenings/batch", json=rows, headers={"Idempotency-Key": "batch-77"})
    assert first.json() == second.json() and second.headers.get("idempotent-replayed") == "true"
    assert first.json()["items"][0]["outcome"] == "created"
