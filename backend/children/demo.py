"""Demo left-behind children: a few hundred children across the villages, children's homes (some broken or needing
repair) with inspections and family calls, and the carer login `caring.mother`. Pairings and visits are loaded
by the pairings' own demo, on top of these rows."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.auth.models import User
from backend.auth.roles import Role
from backend.branches.models import Branch
from backend.children.models import (
    CallWith,
    Child,
    ChildCategory,
    ChildrenHome,
    ChildStatus,
    FamilyCallSession,
    GuardianRelation,
    HomeCondition,
    HomeHost,
    HomeInspection,
    HomeLevel,
    WorkPlace,
)
from backend.children.service import aged_out_born_before, id_columns, phone_columns, sex_of
from backend.core.db import insert_ids
from backend.core.scope import ANCESTOR_COLUMNS
from backend.members.models import Member
from backend.screenings.idcard import make_id_number
from backend.volunteers.models import TeamType, Volunteer, VolunteerTeam

CARER_LOGIN = "caring.mother"
CARER_NAME = "李爱华"
CHILDREN_PER_VILLAGE = (0, 2)
# The carer's village gets a fuller list, so she has children to be paired with.
CARER_VILLAGE_CHILDREN = 14
BOYS = "浩然子轩宇航俊杰梓豪博文一鸣天佑思远嘉乐明轩子墨家豪俊熙"
GIRLS = "欣怡梓涵诗琪雨桐可馨思彤语嫣佳怡若汐紫萱梦琪雅静晨曦欣然"
CATEGORIES = {
    ChildCategory.left_behind_both_parents: 45,
    ChildCategory.left_behind_one_parent: 35,
    ChildCategory.hardship: 10,
    ChildCategory.de_facto_unsupported: 6,
    ChildCategory.orphan: 4,
}
CITIES = {
    WorkPlace.in_county: ["桃源县城"],
    WorkPlace.in_province: ["长沙", "常德", "株洲", "岳阳"],
    WorkPlace.out_of_province: ["东莞", "深圳", "广州", "温州", "苏州", "厦门"],
    WorkPlace.abroad: ["迪拜", "新加坡"],
}
GRADES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三"]


def _weighted(rng, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _phone(rng) -> str:
    return f"1{rng.choice('35789')}{rng.randrange(10**8, 10**9)}"


def _child_name(rng, surname: str, boy: bool) -> str:
    pool = BOYS if boy else GIRLS
    given = pool[rng.randrange(0, len(pool) - 1, 2) :][:2]
    return surname + (given if rng.random() < 0.85 else given[0])


def _work(rng) -> tuple[str, str]:
    place = _weighted(
        rng,
        {
            WorkPlace.in_county: 8,
            WorkPlace.in_province: 25,
            WorkPlace.out_of_province: 62,
            WorkPlace.abroad: 5,
        },
    )
    return place.value, rng.choice(CITIES[place])


def _children(rng, ctx: Any, carer_village_id: int, now: datetime) -> list[dict]:
    from backend.demo import SURNAMES, demo_name

    today, youngest = ctx.today, date(2022, 12, 31)
    oldest = max(date(2011, 1, 1), aged_out_born_before(today) + timedelta(days=1))
    span = (min(youngest, today) - oldest).days
    used, rows = set(), []
    schools = {
        v.id: f"{v.name.removesuffix('社区').removesuffix('居委会').removesuffix('村')}小学"
        for v in ctx.villages
    }
    # From the fourth grade (about 9) children go to their township's central school, where the homes are.
    central = {v.id: f"{t.name}中心小学" for t in ctx.townships for v in ctx.villages_of(t)}
    for village in ctx.villages:
        count = (
            CARER_VILLAGE_CHILDREN if village.id == carer_village_id else rng.randint(*CHILDREN_PER_VILLAGE)
        )
        for _ in range(count):
            born = oldest + timedelta(days=rng.randrange(span))
            boy = rng.random() < 0.52
            while True:
                sequence = rng.randrange(0, 500) * 2 + (1 if boy else 0)
                if (born, sequence) not in used:
                    used.add((born, sequence))
                    break
            number = make_id_number(ctx.county.code[:6], born, sequence)
            surname = rng.choice(SURNAMES)
            category = _weighted(rng, CATEGORIES)
            father, mother = _work(rng), _work(rng)
            if category == ChildCategory.left_behind_one_parent and rng.random() < 0.6:
                mother = (None, None)
            elif category == ChildCategory.left_behind_one_parent:
                father = (None, None)
            elif category in (ChildCategory.orphan, ChildCategory.de_facto_unsupported):
                father = mother = (None, None)
            status = _weighted(
                rng, {ChildStatus.active: 88, ChildStatus.parents_returned: 7, ChildStatus.moved_away: 5}
            )
            age = (today - born).days // 365
            rows.append(
                {
                    "name": _child_name(rng, surname, boy),
                    "sex": sex_of(number).value,
                    "birth_date": born,
                    "school": (schools if age < 9 else central)[village.id] if age >= 6 else None,
                    "grade": GRADES[min(age - 6, len(GRADES) - 1)] if age >= 6 else None,
                    "guardian_relation": _weighted(
                        rng,
                        {
                            GuardianRelation.grandparent: 78,
                            GuardianRelation.other_relative: 15,
                            GuardianRelation.family_friend: 4,
                            GuardianRelation.other: 3,
                        },
                    ).value,
                    "guardian_name": (surname if rng.random() < 0.6 else rng.choice(SURNAMES))
                    + demo_name(rng)[1:],
                    **phone_columns("guardian_phone", _phone(rng)),
                    "father_work_place": father[0],
                    "father_city": father[1],
                    **phone_columns("father_phone", _phone(rng) if father[0] else None),
                    "mother_work_place": mother[0],
                    "mother_city": mother[1],
                    **phone_columns("mother_phone", _phone(rng) if mother[0] else None),
                    "category": category.value,
                    "disability": rng.random() < 0.03,
                    "serious_illness": rng.random() < 0.02,
                    "out_of_school": age >= 6 and rng.random() < 0.02,
                    "status": status.value,
                    "status_changed_on": today - timedelta(days=rng.randrange(5, 200))
                    if status != ChildStatus.active
                    else None,
                    "note": None,
                    "created_by": "system:demo",
                    "created_at": now - timedelta(days=rng.randrange(30, 400)),
                    "updated_at": now,
                    "deleted_at": None,
                    "branch_id": village.id,
                    **{a: getattr(village, a) for a in ANCESTOR_COLUMNS},
                    **id_columns(number),
                }
            )
    return rows


def _homes(session: Session, rng, ctx: Any, now: datetime) -> list[dict]:
    """One home in most townships (at the central school or the township's community centre), more in some
    villages; a few broken or needing repair, as the inspections found them."""
    from backend.demo import demo_name

    members: dict[int, list[int]] = {}
    for member_id, branch_id in session.execute(sa.select(Member.id, Member.branch_id)):
        members.setdefault(branch_id, []).append(member_id)
    homes = []
    for township in ctx.townships:
        villages = ctx.villages_of(township)
        sites: list[tuple[Any, HomeHost]] = [
            (township, _weighted(rng, {HomeHost.school: 6, HomeHost.community_centre: 4}))
        ]
        sites += [(v, HomeHost.village_room) for v in villages if rng.random() < 0.08]
        for branch, host in sites:
            level = (
                _weighted(rng, {HomeLevel.county_demo: 2, HomeLevel.township_demo: 5, HomeLevel.none: 3})
                if branch is township
                else _weighted(rng, {HomeLevel.township_demo: 1, HomeLevel.none: 6})
            )
            condition = _weighted(
                rng, {HomeCondition.good: 70, HomeCondition.needs_repair: 18, HomeCondition.broken: 12}
            )
            local = members.get(branch.id, []) + members.get(township.id, [])
            homes.append(
                {
                    "name": f"{branch.name}留守儿童之家",
                    "host": host.value,
                    "school_name": f"{township.name}中心小学" if host == HomeHost.school else None,
                    "level": level.value,
                    "opening_hours": rng.choice(
                        [
                            "周六、周日 9:00-17:00",
                            "周一至周五 16:00-18:00,周六 9:00-12:00",
                            "寒暑假每天 8:30-17:30",
                        ]
                    ),
                    "manager_member_id": rng.choice(local) if local else None,
                    "supervisor_member_id": rng.choice(members[township.id])
                    if members.get(township.id)
                    else None,
                    "books_count": rng.randrange(200, 3000, 50),
                    "has_tv": rng.random() < 0.8,
                    "has_phone": rng.random() < 0.85,
                    "has_computer": rng.random() < 0.5,
                    "has_video_call": rng.random() < 0.55,
                    "desks": rng.randrange(4, 30),
                    "condition": condition.value,
                    "last_inspected_on": ctx.today - timedelta(days=rng.randrange(5, 300)),
                    "note": None,
                    "created_at": now - timedelta(days=rng.randrange(200, 900)),
                    "updated_at": now,
                    "deleted_at": None,
                    "branch_id": branch.id,
                    **{a: getattr(branch, a) for a in ANCESTOR_COLUMNS},
                    "_inspector": demo_name(rng),
                }
            )
    return homes


FINDINGS = {
    HomeCondition.good.value: [
        "运行正常,台账齐全",
        "图书借阅记录完整,活动照片齐全",
        "亲情电话畅通,开放时间落实",
    ],
    HomeCondition.needs_repair.value: ["电脑无法开机,需维修", "桌椅破损 4 套", "屋顶漏水,墙面受潮"],
    HomeCondition.broken.value: [
        "房屋闲置,已挪作他用",
        "门窗损坏,设备丢失,未开放",
        "亲情电话停机,长期未开放",
    ],
}


def _carer(session: Session, ctx: Any, village) -> None:
    """The 爱心妈妈 login of the demo, a registered volunteer of her township's caring team."""
    from backend.core.security import hash_password
    from backend.demo import DEMO_PASSWORD

    user = User(
        username=CARER_LOGIN,
        display_name=CARER_NAME,
        role=Role.carer.value,
        password_hash=hash_password(DEMO_PASSWORD),
    )
    user.place_in(village)
    session.add(user)
    ctx.users[CARER_LOGIN] = user
    township = next(t for t in ctx.townships if t.id == village.parent_id)
    team = session.exec(
        select(VolunteerTeam).where(
            VolunteerTeam.branch_id.in_((village.id, township.id)),
            VolunteerTeam.type == TeamType.left_behind_children,
        )
    ).first()
    if team is None:
        team = VolunteerTeam(
            name=f"{township.name}爱心妈妈志愿服务队",
            type=TeamType.left_behind_children,
            leader_name=CARER_NAME,
            founded_on=ctx.today - timedelta(days=700),
        )
        team.place_in(township)
        session.add(team)
        session.flush()
    volunteer = Volunteer(
        team_id=team.id,
        name=CARER_NAME,
        phone="13907361234",
        skills=["陪伴", "辅导作业"],
        joined_on=ctx.today - timedelta(days=400),
    )
    volunteer.place_in(session.get(Branch, team.branch_id))
    session.add(volunteer)
    session.flush()


def load(session: Session, ctx: Any) -> None:
    rng, now = ctx.rng, datetime.now(UTC)
    village = next(v for v in ctx.villages if v.id == ctx.users["village.rep"].branch_id)
    _carer(session, ctx, village)
    insert_ids(session, Child, _children(rng, ctx, village.id, now))

    homes = _homes(session, rng, ctx, now)
    inspectors = [h.pop("_inspector") for h in homes]
    home_ids = insert_ids(session, ChildrenHome, homes)
    inspections, calls = [], []
    children_by_branch: dict[int, list[int]] = {}
    for child_id, branch_id, township_id in session.execute(
        sa.select(Child.id, Child.branch_id, getattr(Child, f"a{ctx.county.depth + 1}")).where(
            Child.status == ChildStatus.active
        )
    ):
        children_by_branch.setdefault(branch_id, []).append(child_id)
        children_by_branch.setdefault(township_id, []).append(child_id)
    for home, home_id, inspector in zip(homes, home_ids, inspectors, strict=True):
        last = home["last_inspected_on"]
        inspections.append((home_id, last, home["condition"], inspector))
        if rng.random() < 0.6:
            inspections.append(
                (home_id, last - timedelta(days=rng.randrange(90, 300)), HomeCondition.good.value, inspector)
            )
        nearby = children_by_branch.get(home["branch_id"], [])
        if home["condition"] != HomeCondition.broken.value and home["has_phone"] and nearby:
            for _ in range(rng.randrange(2, 8)):
                held = ctx.today - timedelta(days=rng.randrange(1, 180))
                calls.append(
                    {
                        "home_id": home_id,
                        "child_id": rng.choice(nearby),
                        "held_on": held,
                        "minutes": rng.randrange(5, 30),
                        "with_whom": _weighted(
                            rng,
                            {CallWith.mother: 40, CallWith.father: 25, CallWith.both: 30, CallWith.other: 5},
                        ).value,
                        "note": "视频通话" if home["has_video_call"] and rng.random() < 0.5 else None,
                        "created_by": "system:demo",
                        "created_at": now,
                        "branch_id": home["branch_id"],
                        **{a: home[a] for a in ANCESTOR_COLUMNS},
                    }
                )
    insert_ids(
        session,
        HomeInspection,
        [
            {
                "home_id": home_id,
                "inspected_on": on,
                "inspector_name": inspector,
                "inspector_user_id": None,
                "findings": rng.choice(FINDINGS[condition]),
                "condition": condition,
                "created_at": now,
            }
            for home_id, on, condition, inspector in inspections
        ],
    )
    insert_ids(session, FamilyCallSession, calls)

    from backend.children import demo_pairings

    demo_pairings.load(session, ctx)
