"""结对帮扶 on the one workflow mechanism: proposing, the consent guard, the steps and their 409, one active
pairing per child (also when two activations race on separate connections), lists with overdue ones first."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.branches.models import BranchKind
from backend.children.models import (
    CarerKind,
    Child,
    ChildCategory,
    ConsentRelation,
    Pairing,
    PairingEvent,
    PairingStatus,
    Sex,
)
from backend.core.clock import today_in_china
from backend.core.db import Database
from backend.core.errors import Conflict
from tests.children.pairing_support import P, activate, make_member, pairing_body, propose
from tests.conftest import make_branch, make_user, principal_for


def test_propose_activate_and_end_with_allowed_actions_and_timeline(cadre_a, register, session, tree):
    child = register(101)
    member = make_member(session, tree.village_a1)
    created = propose(cadre_a, child["id"], member.id, visit_every_days=14)
    assert created["status"] == "proposed"
    assert created["carer_name"] == "王爱心"
    assert created["child_name"] == "小明101"
    assert created["branch_id"] == tree.village_a1.id
    assert created["starts_on"] == today_in_china().isoformat()
    assert created["next_visit_due_on"] is None
    assert created["allowed_actions"] == ["activate", "end"]
    assert [e["action"] for e in created["events"]] == ["propose"]

    active = activate(cadre_a, created["id"])
    assert active["status"] == "active"
    assert active["allowed_actions"] == ["end"]
    assert active["next_visit_due_on"] == (today_in_china() + timedelta(days=14)).isoformat()
    assert active["overdue"] is False

    r = cadre_a.post(f"{P}/{created['id']}/actions/activate")
    assert r.status_code == 409
    body = r.json()
    assert body["allowed"] == ["end"]
    assert body["pairing_status"] == "active"

    r = cadre_a.post(f"{P}/{created['id']}/actions/end", json={})
    assert r.status_code == 422, "the reason is required"
    r = cadre_a.post(f"{P}/{created['id']}/actions/end", json={"reason": "孩子随父母外出"})
    assert r.status_code == 200, r.text
    ended = r.json()
    assert ended["status"] == "ended"
    assert ended["end_reason"] == "孩子随父母外出"
    assert ended["ended_on"] == today_in_china().isoformat()
    assert ended["allowed_actions"] == []
    assert [e["action"] for e in ended["events"]] == ["propose", "activate", "end"]
    assert ended["events"][-1]["note"] == "结束结对:孩子随父母外出"
    r = cadre_a.post(f"{P}/{created['id']}/actions/end", json={"reason": "再结束一次"})
    assert r.status_code == 409 and r.json()["allowed"] == []


def test_the_consent_guard_keeps_activate_out_until_consent_is_recorded(cadre_a, register, session, tree):
    child = register(102)
    member = make_member(session, tree.village_a1)
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    # A consent dated in the future is refused at once.
    r = cadre_a.post(P, json=pairing_body(child["id"], member.id, consent_on=tomorrow))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "consent_on"
    created = propose(cadre_a, child["id"], member.id)
    # The row's consent emptied (as an older import might leave it): activate is not allowed, and says why.
    session.execute(sa.update(Pairing).where(Pairing.id == created["id"]).values(consent_by_name=" "))
    session.commit()
    shown = cadre_a.get(f"{P}/{created['id']}").json()
    assert shown["allowed_actions"] == ["end"]
    r = cadre_a.post(f"{P}/{created['id']}/actions/activate")
    assert r.status_code == 409
    assert "同意" in r.json()["detail"]
    assert r.json()["allowed"] == ["end"]
    assert session.get(Pairing, created["id"]).status == PairingStatus.proposed


def test_a_child_has_at_most_one_active_pairing(cadre_a, register, session, tree):
    child = register(103)
    one = make_member(session, tree.village_a1, "王一")
    two = make_member(session, tree.town_a, "王二")
    first = propose(cadre_a, child["id"], one.id)
    second = propose(cadre_a, child["id"], two.id)
    activate(cadre_a, first["id"])
    r = cadre_a.post(f"{P}/{second['id']}/actions/activate")
    assert r.status_code == 409
    assert r.json()["child_id"] == child["id"]
    assert session.get(Pairing, second["id"]).status == PairingStatus.proposed
    # One carer may have several children.
    other_child = register(104)
    activate(cadre_a, propose(cadre_a, other_child["id"], one.id)["id"])
    # Once the first ends, the second may start.
    cadre_a.post(f"{P}/{first['id']}/actions/end", json={"reason": "帮扶人调离"})
    assert activate(cadre_a, second["id"])["status"] == "active"


def test_the_database_index_turns_into_the_same_409(cadre_a, register, session, tree, monkeypatch):
    """With the service check skipped (two requests that both passed it), the unique index answers 409."""
    from backend.children import pairings

    child = register(105)
    member = make_member(session, tree.village_a1)
    first = propose(cadre_a, child["id"], member.id)
    second = propose(cadre_a, child["id"], member.id)
    activate(cadre_a, first["id"])
    monkeypatch.setattr(pairings, "_check_no_active_pairing", lambda *a, **k: None)
    r = cadre_a.post(f"{P}/{second['id']}/actions/activate")
    assert r.status_code == 409, r.text
    assert r.json()["child_id"] == child["id"]


def test_carers_are_checked(cadre_a, register, session, tree, login):
    child = register(106)
    sibling_member = make_member(session, tree.village_a2, "邻村会员")
    r = cadre_a.post(P, json=pairing_body(child["id"], sibling_member.id))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_id"
    member = make_member(session, tree.county, "县会员")
    # A member of a branch above the child's may be her carer, if the caller can see that member.
    county_admin = login("county_admin", tree.county)
    assert propose(county_admin, child["id"], member.id)["status"] == "proposed"
    r = cadre_a.post(P, json=pairing_body(child["id"], member.id))
    assert r.status_code == 404
    # A carer login must be a carer whose village holds the child.
    local = make_member(session, tree.village_a1)
    wrong_village = login("carer", tree.village_a2)
    r = cadre_a.post(P, json=pairing_body(child["id"], local.id, carer_user_id=wrong_village.account.id))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "carer_user_id"
    rep = login("village_rep", tree.village_a1)
    r = cadre_a.post(P, json=pairing_body(child["id"], local.id, carer_user_id=rep.account.id))
    assert r.status_code == 422
    r = cadre_a.post(P, json={**pairing_body(child["id"], local.id), "carer_kind": "volunteer"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "volunteer_id"


def test_the_list_puts_overdue_pairings_first_and_filters(cadre_a, register, session, tree, login):
    member = make_member(session, tree.village_a1)
    ids = {}
    for seq, due_in in ((111, 10), (112, -3), (113, 2), (114, -20)):
        child = register(seq)
        pairing = activate(cadre_a, propose(cadre_a, child["id"], member.id)["id"])
        session.execute(
            sa.update(Pairing)
            .where(Pairing.id == pairing["id"])
            .values(next_visit_due_on=today_in_china() + timedelta(days=due_in))
        )
        ids[due_in] = pairing["id"]
    proposed = propose(cadre_a, register(115)["id"], member.id)
    session.commit()

    items = cadre_a.get(P).json()["items"]
    assert [i["id"] for i in items] == [ids[-20], ids[-3], ids[2], ids[10], proposed["id"]]
    assert [i["overdue"] for i in items] == [True, True, False, False, False]
    overdue = cadre_a.get(P, params={"overdue": "true"}).json()
    assert overdue["total"] == 2 and {i["id"] for i in overdue["items"]} == {ids[-20], ids[-3]}
    assert cadre_a.get(P, params={"status": "proposed"}).json()["total"] == 1
    assert cadre_a.get(P, params={"member_id": member.id}).json()["total"] == 5
    assert cadre_a.get(P, params={"child_id": proposed["child_id"]}).json()["total"] == 1
    assert cadre_a.get(P, params={"under": tree.village_a2.id}).json()["total"] == 0
    assert cadre_a.get(P, params={"sort": "-starts_on"}).status_code == 200
    # The township's list holds them; a sibling township sees none of them, and each one is 404 there.
    cadre_b = login("cadre", tree.town_b)
    assert cadre_b.get(P).json()["total"] == 0
    assert cadre_b.get(f"{P}/{ids[-3]}").status_code == 404
    assert cadre_b.post(f"{P}/{ids[-3]}/actions/end", json={"reason": "x"}).status_code == 404
    assert cadre_b.get(P, params={"under": tree.village_a1.id}).status_code == 404


def test_unpaired_children_are_those_active_without_an_active_pairing(cadre_a, register, session, tree):
    paired = register(121)
    proposed_only = register(122)
    member = make_member(session, tree.village_a1)
    activate(cadre_a, propose(cadre_a, paired["id"], member.id)["id"])
    propose(cadre_a, proposed_only["id"], member.id)
    r = cadre_a.get("/api/v1/children", params={"unpaired": "true"})
    ids = {c["id"] for c in r.json()["items"]}
    assert proposed_only["id"] in ids and paired["id"] not in ids


def test_a_child_no_longer_active_cannot_be_paired(cadre_a, register, session, tree):
    child = register(123)
    member = make_member(session, tree.village_a1)
    pairing = propose(cadre_a, child["id"], member.id)
    cadre_a.patch(f"/api/v1/children/{child['id']}", json={"status": "parents_returned"})
    r = cadre_a.post(f"{P}/{pairing['id']}/actions/activate")
    assert r.status_code == 409 and r.json()["child_id"] == child["id"]
    r = cadre_a.post(P, json=pairing_body(child["id"], member.id))
    assert r.status_code == 409


def test_only_pairing_writers_take_steps(register, cadre_a, session, tree, login):
    child = register(124)
    member = make_member(session, tree.village_a1)
    pairing = propose(cadre_a, child["id"], member.id)
    leader = login("leader", tree.county)
    assert leader.get(f"{P}/{pairing['id']}").json()["allowed_actions"] == []
    assert leader.post(f"{P}/{pairing['id']}/actions/activate").status_code == 403
    carer = login("carer", tree.village_a1)
    assert carer.get(P).status_code == 403


# ---- two activations at once, on separate connections with real commits


@pytest.fixture
def committed(engine):
    """A county, a village, a child and two proposed pairings for her, committed; removed afterwards."""
    db = Database(engine)
    tag = uuid.uuid4().hex[:8]
    with db.session(write=True) as session:
        county = make_branch(session, None, f"并发县{tag}", BranchKind.county)
        village = make_branch(session, county, f"并发村{tag}", BranchKind.village)
        user = make_user(session, village, "village_rep", f"race-{tag}")
        child = Child(
            name="并发",
            sex=Sex.female,
            id_number_enc="x",
            id_number_hash=f"race-{tag}",
            id_number_masked="x",
            birth_date=today_in_china() - timedelta(days=3000),
            category=ChildCategory.orphan,
        )
        child.place_in(village)
        session.add(child)
        session.flush()
        ids = []
        for _ in range(2):
            p = Pairing(
                child_id=child.id,
                carer_kind=CarerKind.member,
                carer_name="并发",
                consent_on=today_in_china(),
                consent_by_name="并发",
                consent_by_relation=ConsentRelation.guardian,
                starts_on=today_in_china(),
            )
            p.place_in(village)
            session.add(p)
            session.flush()
            ids.append(p.id)
        found = (user.id, village.id, county.id, child.id, ids)
    principal = principal_for(user, village)
    yield db, principal, found
    user_id, village_id, county_id, child_id, ids = found
    from backend.auth.models import User
    from backend.branches.models import Branch

    with db.session(write=True) as session:
        session.execute(sa.delete(PairingEvent).where(PairingEvent.pairing_id.in_(ids)))
        session.execute(sa.delete(Pairing).where(Pairing.id.in_(ids)))
        session.execute(sa.delete(Child).where(Child.id == child_id))
        session.execute(sa.delete(User).where(User.id == user_id))
        session.execute(sa.delete(Branch).where(Branch.id == village_id))
        session.execute(sa.delete(Branch).where(Branch.id == county_id))


def test_two_concurrent_activations_for_one_child_exactly_one_succeeds(committed):
    from backend.children import pairings

    db, principal, (_user, _village, _county, child_id, ids) = committed
    barrier = threading.Barrier(2)

    def activate_one(pairing_id: int) -> str:
        barrier.wait()
        try:
            with db.session(write=True) as session:
                p = pairings.get_pairing(session, principal, pairing_id, for_update=True)
                pairings.perform(session, principal, p, "activate")
            return "ok"
        except Conflict as exc:
            assert exc.extra["child_id"] == child_id
            return "409"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(activate_one, ids))
    assert outcomes == ["409", "ok"]
    with db.session() as session:
        statuses = session.execute(sa.select(Pairing.status).where(Pairing.id.in_(ids))).scalars().all()
    assert sorted(statuses) == ["active", "proposed"]
