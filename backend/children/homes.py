"""Children's homes (儿童之家 / 留守儿童之家): the registry with its facilities checklist, inspections (督查) that set
a home's condition, and the family calls and video held there. No HTTP here.

Presenters: `to_public` for a home, `inspection_to_public` and `call_to_public` for the others.
"""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from backend.branches.models import Branch
from backend.children.models import (
    Child,
    ChildrenHome,
    FamilyCallSession,
    HomeCondition,
    HomeHost,
    HomeInspection,
    HomeLevel,
)
from backend.children.schemas import (
    CallCreate,
    CallPublic,
    HomeCreate,
    HomePublic,
    HomeUpdate,
    InspectionCreate,
    InspectionPublic,
)
from backend.core.clock import Between, today_in_china
from backend.core.db import utcnow
from backend.core.errors import AppError, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.scope import Principal, get_scoped, scoped, within
from backend.members.models import Member

Manager = aliased(Member, name="manager")
Supervisor = aliased(Member, name="supervisor")
# Broken homes first, then those needing repair: what a township cadre must act on.
ATTENTION = sa.case(
    (ChildrenHome.condition == HomeCondition.broken, 0),
    (ChildrenHome.condition == HomeCondition.needs_repair, 1),
    else_=2,
)

HOME_COLUMNS = [
    Column("name", "名称"),
    Column("branch_name", "所在组织"),
    Column("host", "依托", "home_host"),
    Column("school_name", "学校"),
    Column("level", "示范等级", "home_level"),
    Column("opening_hours", "开放时间"),
    Column("manager_name", "管理员"),
    Column("supervisor_name", "督导员"),
    Column("books_count", "图书(册)"),
    Column("has_tv", "电视"),
    Column("has_phone", "亲情电话"),
    Column("has_computer", "电脑"),
    Column("has_video_call", "视频通话"),
    Column("desks", "桌椅(套)"),
    Column("condition", "状况", "home_condition"),
    Column("last_inspected_on", "最近督查"),
]


def _rows() -> Any:
    return (
        sa.select(
            ChildrenHome,
            Branch.name.label("branch_name"),
            Manager.name.label("manager_name"),
            Supervisor.name.label("supervisor_name"),
        )
        .join(Branch, Branch.id == ChildrenHome.branch_id)
        .outerjoin(Manager, Manager.id == ChildrenHome.manager_member_id)
        .outerjoin(Supervisor, Supervisor.id == ChildrenHome.supervisor_member_id)
    )


def to_public(row: Any) -> HomePublic:
    home = row[0]
    return HomePublic.model_validate(
        {
            **{k: getattr(home, k) for k in HomePublic.model_fields if hasattr(home, k)},
            "branch_name": row.branch_name,
            "manager_name": row.manager_name,
            "supervisor_name": row.supervisor_name,
        }
    )


def get_home(session: Session, principal: Principal, home_id: int) -> HomePublic:
    home = get_scoped(session, ChildrenHome, home_id, principal)
    return to_public(session.execute(_rows().where(ChildrenHome.id == home.id)).one())


def list_homes(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    condition: HomeCondition | None = None,
    needs_attention: bool | None = None,
    level: HomeLevel | None = None,
    host: HomeHost | None = None,
) -> Any:
    stmt = within(session, principal, scoped(_rows(), principal, ChildrenHome), ChildrenHome, under)
    if condition:
        stmt = stmt.where(ChildrenHome.condition == condition)
    if needs_attention is not None:
        bad = ChildrenHome.condition.in_((HomeCondition.broken, HomeCondition.needs_repair))
        stmt = stmt.where(bad if needs_attention else sa.not_(bad))
    if level:
        stmt = stmt.where(ChildrenHome.level == level)
    if host:
        stmt = stmt.where(ChildrenHome.host == host)
    return page.respond(
        session,
        stmt,
        to_public,
        search=[ChildrenHome.name, ChildrenHome.school_name],
        columns=HOME_COLUMNS,
        filename="children-homes",
        sortable={
            "attention": ATTENTION,
            "name": ChildrenHome.name,
            "created_at": ChildrenHome.created_at,
            "last_inspected_on": ChildrenHome.last_inspected_on,
            "books_count": ChildrenHome.books_count,
            "id": ChildrenHome.id,
        },
        default_sort="attention,name",
        scalars=False,
    )


def _member(session: Session, principal: Principal, member_id: int | None, field: str) -> int | None:
    if member_id is None:
        return None
    try:
        return get_scoped(session, Member, member_id, principal).id
    except AppError:
        raise ValidationFailed(field, "会员不存在或不在您的管辖范围内") from None


def _check_school(host: HomeHost, school_name: str | None) -> str | None:
    school_name = (school_name or "").strip() or None
    if host == HomeHost.school and not school_name:
        raise ValidationFailed("school_name", "依托学校的儿童之家须填写学校名称")
    return school_name


def create_home(session: Session, principal: Principal, data: HomeCreate, branch: Branch) -> ChildrenHome:
    values = data.model_dump(exclude={"branch_id"})
    values["name"] = data.name.strip()
    values["school_name"] = _check_school(data.host, data.school_name)
    values["manager_member_id"] = _member(session, principal, data.manager_member_id, "manager_member_id")
    values["supervisor_member_id"] = _member(
        session, principal, data.supervisor_member_id, "supervisor_member_id"
    )
    home = ChildrenHome(**values)
    home.place_in(branch)
    session.add(home)
    session.flush()
    return home


def update_home(session: Session, principal: Principal, home: ChildrenHome, data: HomeUpdate) -> ChildrenHome:
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "host", "level", "books_count", "desks"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(required, "此项不能为空")
    for flag in ("has_tv", "has_phone", "has_computer", "has_video_call"):
        if flag in changes and changes[flag] is None:
            raise ValidationFailed(flag, "此项不能为空")
    for field in ("manager_member_id", "supervisor_member_id"):
        if field in changes:
            changes[field] = _member(session, principal, changes[field], field)
    host = changes.get("host", home.host)
    school_name = changes.get("school_name", home.school_name)
    changes["school_name"] = _check_school(host, school_name) if host == HomeHost.school else school_name
    for key, value in changes.items():
        setattr(home, key, value.strip() if isinstance(value, str) else value)
    home.updated_at = utcnow()
    session.flush()
    return home


def delete_home(session: Session, home: ChildrenHome) -> None:
    home.soft_delete()
    session.flush()


def check_activity_home(session: Session, principal: Principal, activity: Any) -> None:
    """An activity names the home it was held at only if it is a left-behind children's activity, and only a home
    its maker can see."""
    if activity.home_id is None:
        return
    if activity.type != "left_behind_children":
        raise ValidationFailed("home_id", "只有留守儿童关爱类活动可以填写儿童之家")
    try:
        get_scoped(session, ChildrenHome, activity.home_id, principal)
    except AppError:
        raise ValidationFailed("home_id", "儿童之家不存在或不在您的管辖范围内") from None


# ---- inspections


def inspection_to_public(inspection: HomeInspection) -> InspectionPublic:
    return InspectionPublic.model_validate(inspection, from_attributes=True)


def _not_future(day: date | None, field: str) -> date:
    today = today_in_china()
    if day is None:
        return today
    if day > today:
        raise ValidationFailed(field, "日期不能晚于今天")
    return day


def inspect_home(
    session: Session, principal: Principal, home: ChildrenHome, data: InspectionCreate
) -> HomeInspection:
    """Record an inspection; the latest one sets the home's condition (an older one entered late does not)."""
    on = _not_future(data.inspected_on, "inspected_on")
    inspection = HomeInspection(
        home_id=home.id,
        inspected_on=on,
        inspector_name=(data.inspector_name or principal.name).strip(),
        inspector_user_id=principal.id if principal.kind == "user" else None,
        findings=data.findings,
        condition=data.condition,
    )
    session.add(inspection)
    if home.last_inspected_on is None or on >= home.last_inspected_on:
        home.condition = data.condition
        home.last_inspected_on = on
        home.updated_at = utcnow()
    session.flush()
    return inspection


def list_inspections(session: Session, principal: Principal, page: ListParams, home: ChildrenHome) -> Any:
    stmt = select(HomeInspection).where(HomeInspection.home_id == home.id)
    return page.respond(
        session,
        stmt,
        inspection_to_public,
        search=[HomeInspection.findings, HomeInspection.inspector_name],
        columns=[
            Column("inspected_on", "督查日期"),
            Column("inspector_name", "督查人"),
            Column("condition", "状况", "home_condition"),
            Column("findings", "发现的问题"),
        ],
        filename="home-inspections",
        sortable={"inspected_on": HomeInspection.inspected_on, "id": HomeInspection.id},
        default_sort="-inspected_on",
    )


# ---- family calls


def call_to_public(row: Any) -> CallPublic:
    call, child_name = row[0], row[1]
    return CallPublic(
        id=call.id,
        home_id=call.home_id,
        child_id=call.child_id,
        child_name=child_name,
        held_on=call.held_on,
        minutes=call.minutes,
        with_whom=call.with_whom,
        note=call.note,
        created_at=call.created_at,
    )


def record_call(
    session: Session, principal: Principal, home: ChildrenHome, data: CallCreate
) -> tuple[FamilyCallSession, str]:
    try:
        child = get_scoped(session, Child, data.child_id, principal)
    except AppError:
        raise ValidationFailed("child_id", "儿童不存在或不在您的管辖范围内") from None
    call = FamilyCallSession(
        home_id=home.id,
        child_id=child.id,
        held_on=_not_future(data.held_on, "held_on"),
        minutes=data.minutes,
        with_whom=data.with_whom,
        note=data.note,
        created_by=principal.subject,
    )
    # Counted where the home is, since the figures are the homes' work.
    call.place_in(session.get(Branch, home.branch_id))
    session.add(call)
    session.flush()
    return call, child.name


def list_calls(
    session: Session,
    principal: Principal,
    page: ListParams,
    home: ChildrenHome,
    *,
    period: Between = Between(),
) -> Any:
    stmt = (
        sa.select(FamilyCallSession, Child.name.label("child_name"))
        .join(Child, Child.id == FamilyCallSession.child_id)
        .where(FamilyCallSession.home_id == home.id)
    )
    stmt = stmt.where(period.covers_day(FamilyCallSession.held_on))
    return page.respond(
        session,
        stmt,
        call_to_public,
        search=[Child.name],
        columns=[
            Column("held_on", "日期"),
            Column("child_name", "儿童"),
            Column("with_whom", "通话对象", "call_with"),
            Column("minutes", "时长(分钟)"),
            Column("note", "备注"),
        ],
        filename="family-calls",
        sortable={"held_on": FamilyCallSession.held_on, "id": FamilyCallSession.id},
        default_sort="-held_on",
        scalars=False,
    )
