"""Who sees which ticket: subtree of the owning branch, village reps their own, sealed only handlers, leaders none."""

from tests.tickets.conftest import ok


def _ids(client, **params):
    r = client.get("/api/v1/tickets", params=params)
    assert r.status_code == 200, r.text
    return {t["id"] for t in r.json()["items"]}


def _sees(client, tid) -> bool:
    r = client.get(f"/api/v1/tickets/{tid}")
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def test_owner_subtree_child_sibling_and_parent(operator, login, tree, new_ticket, admin):
    cadre_a = login("cadre", tree.town_a)
    cadre_b = login("cadre", tree.town_b)
    rep_a1 = login("village_rep", tree.village_a1)
    county_cadre = login("cadre", tree.county)
    tid = new_ticket(operator, sealed=False)["id"]

    # Owned by the county (where the call was taken): townships do not see it yet.
    assert _sees(operator, tid) and _sees(admin, tid) and _sees(county_cadre, tid)
    assert not _sees(cadre_a, tid) and not _sees(cadre_b, tid)

    ok(operator, tid, "assign", {"branch_id": tree.village_a1.id})
    # Owned by village A1: its township (parent) and the county see it, the sibling township does not.
    assert _sees(cadre_a, tid) and tid in _ids(cadre_a)
    assert not _sees(cadre_b, tid) and tid not in _ids(cadre_b)
    assert cadre_b.get(f"/api/v1/tickets/{tid}/caller").status_code == 404
    assert cadre_a.get(f"/api/v1/tickets/{tid}/caller").status_code == 200
    assert _sees(operator, tid) and tid in _ids(operator)
    # A village rep sees only what is assigned to her by name, not everything in her village.
    assert not _sees(rep_a1, tid) and tid not in _ids(rep_a1)
    ok(cadre_a, tid, "assign", {"branch_id": tree.village_a1.id, "assignee_id": rep_a1.account.id})
    assert _sees(rep_a1, tid) and tid in _ids(rep_a1)
    ok(rep_a1, tid, "accept")
    # A walk-in she registers herself stays hers (首问责任制), though nobody assigned it to her.
    own = new_ticket(rep_a1, sealed=False, channel="walk_in")
    assert own["owner_branch_id"] == tree.village_a1.id and _sees(rep_a1, own["id"])
    assert not _sees(login("village_rep", tree.village_a1), own["id"])

    # Moved to the sibling township's village: township A loses sight, a cadre cannot act on what she cannot see.
    ok(operator, tid, "assign", {"branch_id": tree.village_b1.id})
    assert not _sees(cadre_a, tid) and not _sees(rep_a1, tid)
    assert _sees(cadre_b, tid)
    assert cadre_a.post(f"/api/v1/tickets/{tid}/actions/note", json={"text": "x"}).status_code == 404

    # Assigning outside one's own subtree is refused as if the branch did not exist.
    r = cadre_b.post(f"/api/v1/tickets/{tid}/actions/assign", json={"branch_id": tree.village_a2.id})
    assert r.status_code == 404


def test_a_township_cadre_cannot_see_a_parent_branch_ticket(login, tree, new_ticket):
    county_cadre = login("cadre", tree.county)
    cadre_a = login("cadre", tree.town_a)
    tid = new_ticket(county_cadre, sealed=False, branch_id=tree.village_a1.id)["id"]
    assert not _sees(cadre_a, tid)
    mine = new_ticket(cadre_a, sealed=False, branch_id=tree.village_a2.id)
    assert mine["owner_branch_id"] == tree.town_a.id
    assert _sees(county_cadre, mine["id"])
    # Intake for a place outside her subtree is refused.
    r = cadre_a.post(
        "/api/v1/tickets",
        json={
            "channel": "walk_in",
            "branch_id": tree.village_b1.id,
            "category": "consultation",
            "summary": "咨询",
        },
    )
    assert r.status_code == 404


def test_leader_gets_figures_but_no_tickets(operator, login, tree, new_ticket):
    leader = login("leader", tree.county)
    tid = new_ticket(operator, sealed=False)["id"]
    assert leader.get("/api/v1/tickets").status_code == 403
    assert leader.get(f"/api/v1/tickets/{tid}").status_code == 403
    assert leader.get(f"/api/v1/tickets/{tid}/caller").status_code == 403
    r = leader.get("/api/v1/tickets/stats")
    assert r.status_code == 200 and r.json()["total"] == 1


def test_sealed_ticket_only_for_handlers_and_county_admins(operator, login, tree, new_ticket, admin):
    other_operator = login("hotline_operator", tree.county)
    county_cadre = login("cadre", tree.county)
    cadre_a = login("cadre", tree.town_a)
    cadre_a2 = login("cadre", tree.town_a)
    rep_a1 = login("village_rep", tree.village_a1)
    tid = new_ticket(operator, sealed=True)["id"]

    assert _sees(operator, tid)  # first responder
    assert _sees(admin, tid)  # county admin
    assert not _sees(other_operator, tid) and tid not in _ids(other_operator)
    assert not _sees(county_cadre, tid)

    ok(operator, tid, "assign", {"branch_id": tree.town_a.id, "assignee_id": cadre_a.account.id})
    assert _sees(cadre_a, tid)  # assignee
    assert not _sees(cadre_a2, tid)  # same township, not a handler
    ok(cadre_a, tid, "assign", {"branch_id": tree.village_a1.id, "assignee_id": rep_a1.account.id})
    # cadre_a is no longer the assignee but acted on it: she stays a handler.
    assert _sees(cadre_a, tid) and _sees(rep_a1, tid)
    assert tid in _ids(cadre_a) and tid in _ids(rep_a1) and tid not in _ids(cadre_a2)
    assert tid in _ids(admin, sealed=True)
    export = admin.get("/api/v1/tickets", params={"format": "xlsx"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/vnd.openxml")
    # Duplicates never leak a sealed case to someone who cannot see it.
    other = new_ticket(other_operator, sealed=False)
    assert other["possible_duplicates"] == []
