"""Building the tree from the official division codes, and the demo county."""

import csv
from pathlib import Path

import pytest
from sqlmodel import func, select

from backend.auth.models import ApiClient, User
from backend.branches.divisions import import_divisions, kind_from_name
from backend.branches.models import Branch, BranchKind
from backend.demo import DIVISIONS_DIR, load_demo

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "divisions-2023"


def _counts(session):
    return dict(session.exec(select(Branch.kind, func.count()).group_by(Branch.kind)).all())


def test_import_the_county_subtree_and_rerun_changes_nothing(session):
    added = import_divisions(session, DIVISIONS_DIR, under="430725")
    assert added == {"areas": 1, "streets": 29, "villages": 430}
    county = session.exec(select(Branch).where(Branch.code == "430725")).one()
    assert county.name == "桃源县" and county.kind == BranchKind.county and county.depth == 1
    town = session.exec(select(Branch).where(Branch.code == "430725101")).one()
    assert town.name == "陬市镇" and town.kind == "township" and town.parent_id == county.id
    assert town.path == f"/{county.id}/{town.id}/" and (town.a1, town.a2) == (county.id, town.id)
    village = session.exec(select(Branch).where(Branch.parent_id == town.id).order_by(Branch.code)).first()
    assert village.path == f"/{county.id}/{town.id}/{village.id}/" and village.a3 == village.id
    before = _counts(session)
    assert before[BranchKind.street] == 2 and before[BranchKind.township] == 27
    assert before[BranchKind.village] + before[BranchKind.community] == 430
    assert import_divisions(session, DIVISIONS_DIR, under="430725") == {
        "areas": 0,
        "streets": 0,
        "villages": 0,
    }
    assert _counts(session) == before


def test_a_later_import_of_the_parents_keeps_the_subtree_and_a_new_child_hangs_under_its_parent(session):
    import_divisions(session, DIVISIONS_DIR, under="430725")
    added = import_divisions(session, DIVISIONS_DIR, under="43")
    # Province and city are new roots above; the county keeps its place (it is already there).
    assert added["provinces"] == 1 and added["cities"] == 1 and added["areas"] == 0


def test_kinds_are_read_from_the_names():
    assert kind_from_name(3, "漳江街道") == BranchKind.street
    assert kind_from_name(3, "青林回族维吾尔族乡") == BranchKind.township
    assert kind_from_name(4, "文昌阁社区居委会") == BranchKind.community
    assert kind_from_name(4, "白鳞洲村委会") == BranchKind.village


def test_the_committed_extract_matches_the_national_files():
    if not SHARED.exists():
        pytest.skip("national division files not beside the project")
    ours = {r["code"] for r in csv.DictReader((DIVISIONS_DIR / "villages.csv").open(encoding="utf-8"))}
    with (SHARED / "villages.csv").open(encoding="utf-8") as fh:
        theirs = {r["code"] for r in csv.DictReader(fh) if r["areaCode"] == "430725"}
    assert ours == theirs


def test_demo_builds_the_county_with_logins_and_runs_once(db, anon):
    assert load_demo(db) is True
    with db.session() as session:
        counts = _counts(session)
        assert counts[BranchKind.organ_committee] >= 2 and counts[BranchKind.enterprise_committee] >= 1
        users = {u.username: u for u in session.exec(select(User))}
        assert set(users) == {
            "county.admin",
            "leader",
            "hotline.operator",
            "township.cadre",
            "township2.cadre",
            "village.rep",
            "village2.rep",
            "caring.mother",
        }
        first_town = session.exec(
            select(Branch).where(Branch.depth == 2, Branch.code.is_not(None)).order_by(Branch.code)
        ).first()
        assert users["township.cadre"].branch_id == first_town.id
        rep_branch = session.get(Branch, users["village.rep"].branch_id)
        assert rep_branch.parent_id == first_town.id
        assert users["caring.mother"].branch_id == rep_branch.id  # a 爱心妈妈 in the village rep's village
        assert {c.client_id for c in session.exec(select(ApiClient))} == {"health-bureau", "civil-affairs"}
    r = anon.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "village.rep", "password": "HalfSky-demo-2026"},
    )
    assert r.status_code == 200
    r = anon.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "civil-affairs",
            "client_secret": "HalfSky-demo-2026",
        },
    )
    assert r.status_code == 200
    assert load_demo(db) is False


def test_demo_refuses_production(db, monkeypatch):
    from backend.core import config

    monkeypatch.setattr(config.get_settings(), "halfsky_env", "production")
    with pytest.raises(RuntimeError):
        load_demo(db)
