import json

from sqlmodel import select

from backend.core.audit_models import AuditLog
from backend.screenings.models import Woman
from tests.screenings.conftest import idn, woman_body


def test_register_masks_id_number_and_phone_and_derives_birth_date(cadre_a, tree):
    r = cadre_a.post("/api/v1/women", json=woman_body(1, tree.village_a1))
    assert r.status_code == 201, r.text
    body = r.json()
    number = idn(1)
    assert body["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert body["phone"] == "139****0001"
    assert body["birth_date"] == "1975-03-08"
    assert body["age"] >= 50
    assert body["branch_id"] == tree.village_a1.id
    assert number not in r.text and "13900000001" not in r.text


def test_lowercase_x_is_accepted_and_stored_upper(cadre_a, tree, session):
    number = "11010519491231002X"
    r = cadre_a.post(
        "/api/v1/women", json={"name": "王秀英", "id_number": number.lower(), "branch_id": tree.village_a1.id}
    )
    assert r.status_code == 201, r.text
    assert r.json()["id_number"].endswith("002X")
    assert r.json()["birth_date"] == "1949-12-31"


def test_one_woman_per_id_number_across_the_installation(cadre_a, login, tree):
    assert cadre_a.post("/api/v1/women", json=woman_body(2, tree.village_a1)).status_code == 201
    again = cadre_a.post("/api/v1/women", json=woman_body(2, tree.village_a2))
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "id_number"
    assert "woman_id" in again.json()
    # Registered in township A: township B is refused too, without learning where or who she is.
    other = login("cadre", tree.town_b).post("/api/v1/women", json=woman_body(2, tree.village_b1))
    assert other.status_code == 409
    assert "woman_id" not in other.json()
    # Lower-case x or spaces do not make a second woman.
    assert (
        cadre_a.post(
            "/api/v1/women", json={**woman_body(3, tree.village_a1), "id_number": "11010519491231002X"}
        ).status_code
        == 201
    )
    dup = cadre_a.post(
        "/api/v1/women", json={**woman_body(4, tree.village_a1), "id_number": " 11010519491231002x "}
    )
    assert dup.status_code == 409


def test_reveal_needs_pii_read_and_is_audited(cadre_a, login, register, tree, session):
    woman = register(5)
    r = cadre_a.get(f"/api/v1/women/{woman['id']}/pii")
    assert r.status_code == 200
    assert r.json() == {"id": woman["id"], "name": "测试5", "id_number": idn(5), "phone": "13900000005"}
    entries = session.exec(
        select(AuditLog).where(
            AuditLog.action == "reveal", AuditLog.entity == "woman", AuditLog.entity_id == str(woman["id"])
        )
    ).all()
    assert len(entries) == 1 and entries[0].field == "id_number,phone"
    assert entries[0].actor == f"user:{cadre_a.account.id}"
    rep = login("village_rep", tree.village_a1)
    assert rep.get(f"/api/v1/women/{woman['id']}").status_code == 200
    assert rep.get(f"/api/v1/women/{woman['id']}/pii").status_code == 403
    assert login("leader", tree.county).get(f"/api/v1/women/{woman['id']}/pii").status_code == 403


def test_audit_trail_of_a_registration_holds_no_clear_pii(register, session):
    woman = register(6)
    rows = session.exec(
        select(AuditLog).where(AuditLog.entity == "woman", AuditLog.entity_id == str(woman["id"]))
    ).all()
    text = json.dumps([r.after for r in rows], ensure_ascii=False)
    assert rows and idn(6) not in text and "13900000006" not in text


def test_visibility_own_child_sibling_parent(register, login, tree):
    woman = register(7)  # village A1
    path = f"/api/v1/women/{woman['id']}"
    assert login("county_admin", tree.county).get(path).status_code == 200  # parent of parent
    assert login("cadre", tree.town_a).get(path).status_code == 200  # parent
    assert login("village_rep", tree.village_a1).get(path).status_code == 200  # own
    assert login("village_rep", tree.village_a2).get(path).status_code == 404  # sibling village
    assert login("cadre", tree.town_b).get(path).status_code == 404  # sibling township
    listed = login("cadre", tree.town_b).get("/api/v1/women").json()
    assert woman["id"] not in [w["id"] for w in listed["items"]]
    own = login("village_rep", tree.village_a1).get("/api/v1/women").json()
    assert [w["id"] for w in own["items"]] == [woman["id"]]


def test_village_rep_registers_in_her_village_only(login, tree):
    rep = login("village_rep", tree.village_a1)
    r = rep.post("/api/v1/women", json={"name": "李桂兰", "id_number": idn(8)})
    assert r.status_code == 201 and r.json()["branch_id"] == tree.village_a1.id
    assert rep.post("/api/v1/women", json=woman_body(9, tree.village_a2)).status_code == 404


def test_lookup_by_id_number_in_the_body(cadre_a, register, login, tree):
    woman = register(10)
    r = cadre_a.post("/api/v1/women/lookup", json={"id_number": idn(10)})
    assert r.status_code == 200 and r.json()["id"] == woman["id"]
    assert (
        login("cadre", tree.town_b).post("/api/v1/women/lookup", json={"id_number": idn(10)}).status_code
        == 404
    )


def test_hardship_status_records_who_and_when(cadre_a, register):
    woman = register(11)
    r = cadre_a.patch(f"/api/v1/women/{woman['id']}", json={"hardship_status": "dibao"})
    assert r.status_code == 200
    assert r.json()["hardship_status"] == "dibao"
    assert r.json()["hardship_verified_by"] == "cadre" and r.json()["hardship_verified_at"]


def test_phone_change_is_encrypted_and_masked(cadre_a, register, session):
    woman = register(12)
    r = cadre_a.patch(f"/api/v1/women/{woman['id']}", json={"phone": "13812345678"})
    assert r.json()["phone"] == "138****5678"
    stored = session.get(Woman, woman["id"])
    session.refresh(stored)
    assert "13812345678" not in (stored.phone_enc or "")
    assert cadre_a.get(f"/api/v1/women/{woman['id']}/pii").json()["phone"] == "13812345678"


def test_list_filters_and_export(cadre_a, register):
    register(13)
    assert cadre_a.get("/api/v1/women?q=测试13").json()["total"] == 1
    assert cadre_a.get("/api/v1/women?hardship_status=tekun").json()["total"] == 0
    x = cadre_a.get("/api/v1/women?format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
