from backend.children.models import PairingStatus
from backend.core.clock import today_in_china


def test_a_carer_sees_only_her_paired_children_and_only_what_a_visit_needs(
    carer, register, pair, login, tree
):
    mine = register(31, guardian_name="欧阳桂兰")
    ended = register(32)
    someone_elses = register(33)
    unpaired = register(34)
    pair(mine["id"], carer.account.id)
    pair(ended["id"], carer.account.id, PairingStatus.ended)
    other_carer = login("carer", tree.village_a1)
    pair(someone_elses["id"], other_carer.account.id)

    r = carer.get("/api/v1/children/mine")
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 1
    item = r.json()["items"][0]
    # Exactly these fields: no ID number, no phone, no parents, not even masked.
    assert item == {
        "id": mine["id"],
        "name": "小明31",
        "age": mine["age"],
        "guardian_first_name": "桂兰",
        "village": "甲一村",
        "pairing_id": item["pairing_id"],
        "last_visit_on": None,
        "next_visit_due_on": today_in_china().isoformat(),
    }
    assert carer.get(f"/api/v1/children/mine/{mine['id']}").json() == item
    for other in (ended, someone_elses, unpaired):
        assert carer.get(f"/api/v1/children/mine/{other['id']}").status_code == 404


def test_a_carer_has_no_access_to_the_registry_or_the_homes(carer, register, pair):
    child = register(35)
    pair(child["id"], carer.account.id)
    for path in (
        "/api/v1/children",
        f"/api/v1/children/{child['id']}",
        f"/api/v1/children/{child['id']}/pii",
        "/api/v1/children-homes",
        "/api/v1/women",
    ):
        assert carer.get(path).status_code == 403, path
    assert carer.post("/api/v1/children", json={}).status_code == 403
    assert carer.get("/api/v1/children", params={"format": "xlsx"}).status_code == 403


def test_the_model_rule_hides_other_children_from_a_carer_whatever_the_query(
    carer, register, pair, session, tree
):
    from sqlmodel import select

    from backend.children.models import Child
    from backend.core.scope import scoped
    from tests.conftest import principal_for

    mine, other = register(36), register(37)
    pair(mine["id"], carer.account.id)
    principal = principal_for(carer.account, tree.village_a1)
    assert session.exec(scoped(select(Child.id), principal)).all() == [mine["id"]]
    assert other["id"] not in session.exec(scoped(select(Child.id), principal)).all()


def test_branches_cannot_use_the_carers_view(cadre_a):
    assert cadre_a.get("/api/v1/children/mine").status_code == 403
