import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlmodel import select

from backend.children import service
from backend.children.models import Child, ChildStatus, PairingEvent, PairingStatus
from backend.core.audit_models import AuditLog
from backend.core.clock import today_in_china
from backend.screenings.idcard import make_id_number
from tests.children.conftest import child_body, child_idn


def test_registering_a_child_masks_her_id_number_and_every_phone(rep_a1, tree, session):
    r = rep_a1.post("/api/v1/children", json=child_body(1, tree.village_a1))
    assert r.status_code == 201, r.text
    child = r.json()
    number = child_idn(1)
    assert child["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert child["guardian_phone"] == "139****1111"
    assert child["father_phone"] == "138****2222" and child["mother_phone"] == "137****3333"
    assert child["birth_date"] == "2016-06-01" and child["sex"] == "male" and child["status"] == "active"
    # Her village is named in the record and in the list.
    assert child["branch_name"] == tree.village_a1.name
    listed = rep_a1.get("/api/v1/children", params={"q": "", "sort": "-created_at"}).json()["items"]
    assert {c["id"]: c["branch_name"] for c in listed}[child["id"]] == tree.village_a1.name
    stored = session.get(Child, child["id"])
    assert number not in (stored.id_number_enc or "") and "13800002222" not in (stored.father_phone_enc or "")
    # The trail records the registration without the encrypted values.
    entry = session.exec(
        select(AuditLog).where(
            AuditLog.entity == "child",
            AuditLog.action == "create",
            AuditLog.entity_id == str(child["id"]),
            AuditLog.actor == f"user:{rep_a1.account.id}",
        )
    ).one()
    assert "id_number_enc" not in entry.after and entry.after["id_number_masked"] == child["id_number"]


def test_a_retried_registration_with_the_same_idempotency_key_makes_one_child(rep_a1, tree, session):
    body, headers = child_body(2, tree.village_a1), {"Idempotency-Key": "child-2-form"}
    first = rep_a1.post("/api/v1/children", json=body, headers=headers)
    again = rep_a1.post("/api/v1/children", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers.get("idempotent-replayed") == "true"
    assert len(session.exec(select(Child.id).where(Child.name == "小明2")).all()) == 1


def test_a_wrong_check_character_is_a_422_naming_the_field_in_chinese(cadre_a, tree):
    number = child_idn(3)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    r = cadre_a.post("/api/v1/children", json=child_body(3, tree.village_a1, id_number=wrong))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "id_number" and "校验位" in r.json()["errors"][0]["message"]


def test_an_unknown_field_is_a_422_naming_it(cadre_a, tree):
    r = cadre_a.post("/api/v1/children", json=child_body(4, tree.village_a1, hobby="football"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hobby"


def test_sex_must_agree_with_the_id_number_and_a_child_of_16_is_refused(cadre_a, tree):
    r = cadre_a.post("/api/v1/children", json=child_body(5, tree.village_a1, sex="female"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sex"
    old = make_id_number("430725", date(today_in_china().year - 17, 1, 1), 11)
    r = cadre_a.post("/api/v1/children", json=child_body(6, tree.village_a1, id_number=old))
    assert r.status_code == 422 and "16" in r.json()["detail"]


def test_one_child_per_id_number_in_the_installation(cadre_a, login, tree, register):
    child = register(7)
    # Another township cannot see her: the 409 does not say who or where.
    other = login("cadre", tree.town_b).post("/api/v1/children", json=child_body(7, tree.village_b1))
    assert (
        other.status_code == 409 and "child_id" not in other.json() and "其他单位" in other.json()["detail"]
    )
    # Her own township is told which child it is.
    mine = cadre_a.post("/api/v1/children", json=child_body(7, tree.village_a2))
    assert mine.status_code == 409 and mine.json()["child_id"] == child["id"]
    # The same number written with a lower-case x, or spaces, is the same child.
    assert (
        cadre_a.post(
            "/api/v1/children", json=child_body(7, tree.village_a2, id_number=" " + child_idn(7) + " ")
        ).status_code
        == 409
    )


def test_each_branch_sees_its_own_and_its_subtree_and_a_sibling_gets_404(register, login, tree, admin):
    child = register(8)
    path = f"/api/v1/children/{child['id']}"
    for client in (login("village_rep", tree.village_a1), login("cadre", tree.town_a), admin):
        assert client.get(path).status_code == 200
        assert child["id"] in [c["id"] for c in client.get("/api/v1/children").json()["items"]]
    for client in (login("village_rep", tree.village_a2), login("cadre", tree.town_b)):
        assert client.get(path).status_code == 404
        assert client.get(f"{path}/pii").status_code == 404
        assert client.patch(path, json={"grade": "四年级"}).status_code == 404
        assert client.delete(path).status_code == 404
        assert client.get("/api/v1/children").json()["items"] == []


def test_the_reveal_needs_pii_read_and_is_audited(register, cadre_a, rep_a1, session):
    child = register(9)
    assert rep_a1.get(f"/api/v1/children/{child['id']}/pii").status_code == 403
    r = cadre_a.get(f"/api/v1/children/{child['id']}/pii")
    assert r.status_code == 200
    assert r.json() == {
        "id": child["id"],
        "name": "小明9",
        "id_number": child_idn(9),
        "guardian_phone": "13900001111",
        "father_phone": "13800002222",
        "mother_phone": "13700003333",
    }
    entries = session.exec(
        select(AuditLog).where(
            AuditLog.action == "reveal", AuditLog.entity == "child", AuditLog.entity_id == str(child["id"])
        )
    ).all()
    assert [(e.entity_id, e.field, e.actor) for e in entries] == [
        (
            str(child["id"]),
            "id_number,guardian_phone,father_phone,mother_phone",
            f"user:{cadre_a.account.id}",
        )
    ]


def test_the_excel_export_is_masked(register, cadre_a):
    register(10)
    r = cadre_a.get("/api/v1/children", params={"format": "xlsx"})
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert "身份证号(脱敏)" in header and row["身份证号(脱敏)"].count("*") == 10
    assert row["父亲电话(脱敏)"] == "138****2222" and row["类别"] == "留守儿童(双亲外出)"
    assert child_idn(10) not in str(rows) and "13800002222" not in str(rows)


def test_list_filters(register, cadre_a, tree, pair):
    plain = register(11, category="hardship", school="桃源县第二小学")
    needs = register(12, disability=True)
    paired = register(13)
    pair(paired["id"], None)
    moved = register(14)
    assert cadre_a.patch(f"/api/v1/children/{moved['id']}", json={"status": "moved_away"}).status_code == 200

    def ids(**params):
        r = cadre_a.get("/api/v1/children", params=params)
        assert r.status_code == 200, r.text
        return sorted(c["id"] for c in r.json()["items"])

    assert ids(category="hardship") == [plain["id"]]
    assert ids(special_needs=True) == [needs["id"]]
    assert ids(school="第二") == [plain["id"]]
    assert ids(unpaired=True) == sorted([plain["id"], needs["id"]])
    assert ids(unpaired=False) == [paired["id"]]
    assert ids(status="moved_away") == [moved["id"]]
    assert ids(q="小明12") == [needs["id"]]
    assert ids(under=tree.village_a2.id) == []
    assert cadre_a.get("/api/v1/children", params={"under": tree.village_b1.id}).status_code == 404


def test_status_changes_carry_their_date(register, cadre_a):
    child = register(15)
    path = f"/api/v1/children/{child['id']}"
    day = (today_in_china() - timedelta(days=3)).isoformat()
    r = cadre_a.patch(path, json={"status": "parents_returned", "status_changed_on": day})
    assert (
        r.status_code == 200
        and r.json()["status"] == "parents_returned"
        and r.json()["status_changed_on"] == day
    )
    r = cadre_a.patch(path, json={"status": "active"})
    assert r.json()["status_changed_on"] == today_in_china().isoformat()
    future = (today_in_china() + timedelta(days=1)).isoformat()
    r = cadre_a.patch(path, json={"status": "moved_away", "status_changed_on": future})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status_changed_on"


def test_moving_a_child_takes_her_pairings_along_and_changing_her_id_number_is_checked(
    register, cadre_a, tree, pair, session
):
    child = register(16)
    pairing = pair(child["id"], None)
    r = cadre_a.patch(f"/api/v1/children/{child['id']}", json={"branch_id": tree.village_a2.id})
    assert r.status_code == 200 and r.json()["branch_id"] == tree.village_a2.id
    session.refresh(pairing)
    assert pairing.branch_id == tree.village_a2.id
    other = register(17)
    clash = cadre_a.patch(f"/api/v1/children/{child['id']}", json={"id_number": child_idn(17)})
    assert clash.status_code == 409 and clash.json()["child_id"] == other["id"]


def test_a_deleted_child_is_gone_and_one_with_an_active_pairing_cannot_be_deleted(
    register, cadre_a, pair, tree
):
    paired, plain = register(18), register(19)
    pair(paired["id"], None)
    assert cadre_a.delete(f"/api/v1/children/{paired['id']}").status_code == 409
    assert cadre_a.delete(f"/api/v1/children/{plain['id']}").status_code == 204
    assert cadre_a.get(f"/api/v1/children/{plain['id']}").status_code == 404
    # Registered again, she comes back on her old row.
    again = cadre_a.post("/api/v1/children", json=child_body(19, tree.village_a1))
    assert again.status_code == 201 and again.json()["id"] == plain["id"]


def test_the_sweep_marks_children_aged_out_on_their_16th_birthday(session, tree, cadre_a, pair):
    today = today_in_china()
    born = date(today.year - 16, today.month, min(today.day, 28)) + timedelta(days=1)
    number = make_id_number("430725", born, 21)
    r = cadre_a.post("/api/v1/children", json=child_body(20, tree.village_a1, id_number=number))
    assert r.status_code == 201, r.text
    pairing = pair(r.json()["id"], None)
    assert service.age_out(session, today) == 0
    birthday = date(born.year + 16, born.month, born.day)
    assert service.age_out(session, birthday) == 1
    child = session.get(Child, r.json()["id"])
    assert child.status == ChildStatus.aged_out and child.status_changed_on == birthday
    # Her pairing ends with her, through the workflow, and says why on its timeline.
    session.refresh(pairing)
    assert pairing.status == PairingStatus.ended and "16" in pairing.end_reason
    assert pairing.next_visit_due_on is None
    events = session.exec(select(PairingEvent).where(PairingEvent.pairing_id == pairing.id)).all()
    assert [(e.action, e.actor) for e in events] == [("end", "system:children")]
    assert service.age_out(session, birthday) == 0
    # The sweep is a periodic task the runners schedule.
    from backend.core.queue import TASKS

    assert TASKS["children.age_out"].every_minutes == 60
