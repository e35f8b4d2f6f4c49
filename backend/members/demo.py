"""Members for every branch of the demo county: a chair and a few others each, posts, training, a talent pool."""

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.branches.models import Branch, BranchKind
from backend.core.db import insert_ids, utcnow
from backend.core.scope import ancestor_values, subtree_filter
from backend.members.models import Member, MemberPosition, MemberRecommendation, MemberTraining

COURSES = [
    ("基层妇联干部履职能力培训", "县妇联"),
    ("妇女维权与反家暴法律知识", "县司法局"),
    ("农村电商技能培训", "县商务局"),
    ("两癌防治知识培训", "县妇幼保健院"),
    ("家庭教育指导师培训", "市妇联"),
    ("网上妇联工作培训", "省妇联"),
]
ETHNICITIES = ["汉族"] * 9 + ["土家族"]


def _titles(kind: str, rng) -> list[tuple[str, bool]]:
    """(title, part_time) for the people of one branch."""
    if kind in (BranchKind.village, BranchKind.community):
        posts = [("village_chair", True), ("executive_member", True)]
        if rng.random() < 0.6:
            posts.append(("information_officer", True))
        return posts
    if kind in (BranchKind.county, BranchKind.township, BranchKind.street):
        return [
            ("chair", rng.random() < 0.7),
            ("vice_chair", True),
            ("womens_affairs_officer", False),
            ("executive_member", True),
        ]
    return [("chair", True), ("executive_member", True)]


def load(session: Session, ctx: Any) -> None:
    from backend.demo import demo_name

    rng, today, now = ctx.rng, ctx.today, utcnow()
    county = ctx.county
    branches = session.exec(
        select(Branch)
        .where(subtree_filter(Branch, county.id, county.depth), Branch.deleted_at.is_(None))
        .order_by(Branch.id)
    ).all()
    members, posts = [], []
    for branch in branches:
        for title, part_time in _titles(branch.kind, rng):
            age = rng.randrange(26, 58)
            phone = (
                branch.chair_phone
                if title in ("chair", "village_chair") and branch.chair_phone
                else f"13{rng.randrange(5, 10)}{rng.randrange(10**7, 10**8)}"
            )
            name = (
                branch.chair_name
                if title in ("chair", "village_chair") and branch.chair_name
                else demo_name(rng)
            )
            members.append(
                {
                    "name": name,
                    "gender": "female",
                    "birth_date": date(today.year - age, rng.randrange(1, 13), 15),
                    "phone": phone,
                    "ethnicity": rng.choice(ETHNICITIES),
                    "political_status": rng.choice(["cpc_member"] * 3 + ["masses", "cyl_member"]),
                    "education": rng.choice(
                        ["junior_high", "senior_high", "senior_high", "college", "bachelor"]
                    ),
                    "talent_pool": age < 40 and rng.random() < 0.25,
                    "note": None,
                    "branch_id": branch.id,
                    **ancestor_values(branch),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            started = today - timedelta(days=rng.randrange(100, 1800))
            concurrent = (
                rng.sample(
                    ["family_planning", "civil_affairs", "statistics", "office"],
                    k=rng.choice([0, 0, 1, 1, 2]),
                )
                if part_time
                else []
            )
            posts.append(
                {
                    "title": title,
                    "part_time": part_time,
                    "concurrent_posts": concurrent,
                    "started_on": started,
                    "ended_on": None,
                    "branch_id": branch.id,
                    **ancestor_values(branch),
                    "created_at": now,
                    "updated_at": now,
                }
            )
    member_t = Member.__table__
    ids = insert_ids(session, member_t, members)
    for member_id, post in zip(ids, posts, strict=True):
        post["member_id"] = member_id
    session.execute(sa.insert(MemberPosition.__table__), posts)

    trainings, recommendations = [], []
    for member_id, member in zip(ids, members, strict=True):
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            course, organiser = rng.choice(COURSES)
            trainings.append(
                {
                    "member_id": member_id,
                    "course": course,
                    "organiser": organiser,
                    "kind": rng.choice(["offline", "offline", "online", "study_tour"]),
                    "hours": rng.choice([4, 8, 8, 16, 24]),
                    "trained_on": today - timedelta(days=rng.randrange(0, 700)),
                    "created_at": now,
                }
            )
        if member["talent_pool"]:
            recommendations.append(
                {
                    "member_id": member_id,
                    "recommended_to": "县委组织部",
                    "recommended_on": today - timedelta(days=rng.randrange(10, 300)),
                    "outcome": rng.choice(["pending", "adopted", "not_adopted"]),
                    "note": None,
                    "created_at": now,
                }
            )
    if trainings:
        session.execute(sa.insert(MemberTraining.__table__), trainings)
    if recommendations:
        session.execute(sa.insert(MemberRecommendation.__table__), recommendations)
