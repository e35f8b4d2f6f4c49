"""A dozen 巾帼志愿服务队 with rosters and a year of service records (mostly approved, some pending or rejected)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from backend.core.db import insert_ids, utcnow
from backend.core.scope import ancestor_values
from backend.volunteers.models import ServiceRecord, Volunteer, VolunteerTeam

TEAM_TYPES = [
    "rights_protection",
    "family_education",
    "left_behind_children",
    "elderly_care",
    "health",
    "culture",
    "general",
]
TEAM_NAMES = {
    "rights_protection": "巾帼维权志愿服务队",
    "family_education": "家庭教育宣讲团",
    "left_behind_children": "爱心妈妈志愿服务队",
    "elderly_care": "巾帼敬老志愿服务队",
    "health": "巾帼健康志愿服务队",
    "culture": "巾帼文艺志愿服务队",
    "general": "巾帼志愿服务队",
}
SKILLS = ["理发", "陪护", "法律咨询", "心理疏导", "文艺", "家政", "医护", "电脑", "驾驶", "讲课"]
GROUP_FOR_TYPE = {
    "left_behind_children": "left_behind_children",
    "elderly_care": "empty_nest_elderly",
    "rights_protection": "poor_women",
    "health": "poor_women",
}


def load(session: Session, ctx: Any) -> None:
    from backend.demo import demo_name

    rng, today, now = ctx.rng, ctx.today, utcnow()
    rep = ctx.users.get("village.rep")
    rep_village = ctx.villages_of(ctx.townships[0])[0]
    homes = [ctx.county, rep_village, *rng.sample(ctx.townships, 5), *rng.sample(ctx.villages, 5)]
    teams = []
    for i, branch in enumerate(homes):
        kind = TEAM_TYPES[i % len(TEAM_TYPES)]
        leader_name = branch.chair_name if branch is rep_village and rep is None else demo_name(rng)
        teams.append(
            {
                "name": f"{branch.name}{TEAM_NAMES[kind]}",
                "type": kind,
                "leader_name": rep.display_name if branch is rep_village and rep else leader_name,
                "leader_phone": f"138{rng.randrange(10**7, 10**8)}",
                "leader_user_id": rep.id if branch is rep_village and rep else None,
                "founded_on": today - timedelta(days=rng.randrange(200, 2000)),
                "note": None,
                "deleted_at": None,
                "branch_id": branch.id,
                **ancestor_values(branch),
                "created_at": now,
                "updated_at": now,
            }
        )
    team_t = VolunteerTeam.__table__
    team_ids = insert_ids(session, team_t, teams)
    volunteers, owners = [], []
    for team_id, team in zip(team_ids, teams, strict=True):
        for _ in range(rng.randrange(8, 20)):
            volunteers.append(
                {
                    "team_id": team_id,
                    "name": demo_name(rng),
                    "phone": f"15{rng.randrange(10**8, 10**9)}",
                    "skills": rng.sample(SKILLS, k=rng.choice([1, 1, 2])),
                    "joined_on": team["founded_on"] + timedelta(days=rng.randrange(0, 150)),
                    "status": rng.choice(["active"] * 8 + ["inactive", "left"]),
                    "deleted_at": None,
                    "branch_id": team["branch_id"],
                    **{f"a{i}": team[f"a{i}"] for i in range(1, 9)},
                    "created_at": now,
                    "updated_at": now,
                }
            )
            owners.append(team)
    vol_t = Volunteer.__table__
    vol_ids = insert_ids(session, vol_t, volunteers)
    records = []
    for vol_id, vol, team in zip(vol_ids, volunteers, owners, strict=True):
        if vol["status"] == "left":
            continue
        for _ in range(rng.randrange(2, 8)):
            status = rng.choice(["approved"] * 8 + ["pending", "rejected"])
            days_ago = rng.randrange(0, 365) if status != "pending" else rng.randrange(0, 20)
            decided = status != "pending"
            records.append(
                {
                    "volunteer_id": vol_id,
                    "team_id": vol["team_id"],
                    "served_on": today - timedelta(days=days_ago),
                    "hours": Decimal(rng.choice(["1.0", "1.5", "2.0", "2.0", "3.0", "4.0"])),
                    "target_group": GROUP_FOR_TYPE.get(
                        team["type"],
                        rng.choice(
                            ["empty_nest_elderly", "left_behind_children", "poor_women", "disabled", "other"]
                        ),
                    ),
                    "activity_id": None,
                    "note": None,
                    "status": status,
                    "reported_by": "system:demo",
                    "reported_by_name": team["leader_name"],
                    "decided_by": "system:demo" if decided else None,
                    "decided_by_name": "乡镇妇联" if decided else None,
                    "decided_at": now - timedelta(days=max(0, days_ago - 2)) if decided else None,
                    "reject_reason": "服务时长与签到不符" if status == "rejected" else None,
                    "deleted_at": None,
                    "branch_id": vol["branch_id"],
                    **{f"a{i}": vol[f"a{i}"] for i in range(1, 9)},
                    "created_at": now - timedelta(days=days_ago),
                    "updated_at": now,
                }
            )
    session.execute(sa.insert(ServiceRecord.__table__), records)
