"""Volunteer teams, volunteers and service hours: reported from a phone, approved by the leader or a cadre."""

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.activities.models import Activity
from backend.branches.models import Branch
from backend.core.clock import Between, Period, today_in_china
from backend.core.db import utcnow
from backend.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.scope import ANCESTOR_COLUMNS, Principal, get_scoped, scoped, subtree_filter, within
from backend.core.security import mask_phone
from backend.volunteers.models import (
    ServiceRecord,
    ServiceRecordStatus,
    TargetGroup,
    TeamType,
    Volunteer,
    VolunteerStatus,
    VolunteerTeam,
)
from backend.volunteers.schemas import (
    ApproveAction,
    BranchHours,
    RejectAction,
    ServiceRecordCreate,
    ServiceRecordPublic,
    ServiceRecordUpdate,
    TargetGroupHours,
    TeamCreate,
    TeamHours,
    TeamPublic,
    TeamUpdate,
    VolunteerCreate,
    VolunteerPublic,
    VolunteerStats,
    VolunteerUpdate,
)

MAX_HOURS_PER_DAY = Decimal("24")
_DONE_WORDS = {ServiceRecordStatus.approved: "审核通过", ServiceRecordStatus.rejected: "驳回"}
APPROVED = ServiceRecordStatus.approved.value


def _required(changes: dict, *names: str) -> None:
    for name in names:
        if name in changes and changes[name] is None:
            raise ValidationFailed(name, "此项不能为空")


def _check_leader(session: Session, principal: Principal, user_id: int | None) -> None:
    if user_id is None:
        return
    from backend.auth.models import User

    try:
        get_scoped(session, User, user_id, principal)
    except NotFound:
        raise ValidationFailed("leader_user_id", "队长账号不存在或不在您的管辖范围内") from None


def _place_like(record, owner) -> None:
    """Put a row in the same branch as the row it belongs to (a volunteer in her team's, hours in hers)."""
    record.branch_id = owner.branch_id
    for name in ANCESTOR_COLUMNS:
        setattr(record, name, getattr(owner, name))


# ---- teams


TEAM_COLUMNS = [
    Column("name", "队伍名称"),
    Column("branch_name", "所属组织"),
    Column("type", "类型", "volunteer_team_type"),
    Column("leader_name", "队长"),
    Column("leader_phone", "队长电话"),
    Column("founded_on", "成立日期"),
    Column("volunteers", "在岗人数"),
    Column("approved_hours", "累计服务时长"),
]


def _team_statement(stmt):
    volunteers = (
        sa.select(sa.func.count())
        .where(
            Volunteer.team_id == VolunteerTeam.id,
            Volunteer.deleted_at.is_(None),
            Volunteer.status == VolunteerStatus.active.value,
        )
        .scalar_subquery()
    )
    hours = (
        sa.select(sa.func.coalesce(sa.func.sum(ServiceRecord.hours), 0))
        .where(
            ServiceRecord.team_id == VolunteerTeam.id,
            ServiceRecord.deleted_at.is_(None),
            ServiceRecord.status == APPROVED,
        )
        .scalar_subquery()
    )
    branch_name = sa.select(Branch.name).where(Branch.id == VolunteerTeam.branch_id).scalar_subquery()
    return stmt.add_columns(
        branch_name.label("branch_name"), volunteers.label("volunteers"), hours.label("approved_hours")
    )


def _team_from_row(row) -> TeamPublic:
    team, branch_name, volunteers, hours = row
    fields = {name: getattr(team, name) for name in TeamPublic.model_fields if hasattr(team, name)}
    return TeamPublic(
        **fields | {"branch_name": branch_name, "volunteers": volunteers or 0}, approved_hours=_hours(hours)
    )


def team_to_public(session: Session, team: VolunteerTeam) -> TeamPublic:
    return _team_from_row(
        session.execute(_team_statement(select(VolunteerTeam).where(VolunteerTeam.id == team.id))).one()
    )


def list_teams(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    type: TeamType | None = None,
) -> Any:
    stmt = within(session, principal, scoped(select(VolunteerTeam), principal), VolunteerTeam, under)
    if type is not None:
        stmt = stmt.where(VolunteerTeam.type == type.value)
    return page.respond(
        session,
        _team_statement(stmt),
        _team_from_row,
        sortable={
            "name": VolunteerTeam.name,
            "created_at": VolunteerTeam.created_at,
            "founded_on": VolunteerTeam.founded_on,
            "id": VolunteerTeam.id,
        },
        default_sort="-created_at",
        search=[VolunteerTeam.name, VolunteerTeam.leader_name],
        columns=TEAM_COLUMNS,
        filename="volunteer-teams",
        scalars=False,
    )


def create_team(session: Session, principal: Principal, data: TeamCreate) -> VolunteerTeam:
    branch = get_scoped(session, Branch, data.branch_id or principal.branch_id, principal)
    _check_leader(session, principal, data.leader_user_id)
    team = VolunteerTeam(**data.model_dump(exclude={"branch_id"}))
    team.place_in(branch)
    session.add(team)
    session.flush()
    return team


def update_team(
    session: Session, principal: Principal, team: VolunteerTeam, data: TeamUpdate
) -> VolunteerTeam:
    changes = data.model_dump(exclude_unset=True)
    _required(changes, "name", "type", "leader_name")
    if changes.get("leader_user_id") is not None:
        _check_leader(session, principal, changes["leader_user_id"])
    for key, value in changes.items():
        setattr(team, key, value)
    team.updated_at = utcnow()
    session.flush()
    return team


def delete_team(session: Session, team: VolunteerTeam) -> None:
    active = session.exec(
        select(Volunteer.id).where(
            Volunteer.team_id == team.id,
            Volunteer.deleted_at.is_(None),
            Volunteer.status != VolunteerStatus.left.value,
        )
    ).first()
    if active is not None:
        raise Conflict("队伍里还有志愿者,请先把他们调出或标记为已退出")
    team.soft_delete()
    session.flush()


# ---- volunteers


VOLUNTEER_COLUMNS = [
    Column("name", "姓名"),
    Column("team_name", "所在队伍"),
    Column("phone", "电话"),
    Column("skills", "特长"),
    Column("joined_on", "加入日期"),
    Column("status", "状态", "volunteer_status"),
]


def _volunteer_statement(stmt):
    team_name = sa.select(VolunteerTeam.name).where(VolunteerTeam.id == Volunteer.team_id).scalar_subquery()
    return stmt.add_columns(team_name.label("team_name"))


def _volunteer_public(principal: Principal, volunteer: Volunteer, team_name: str | None) -> VolunteerPublic:
    masked = bool(volunteer.phone) and not principal.can("pii:read")
    return VolunteerPublic(
        id=volunteer.id,
        team_id=volunteer.team_id,
        team_name=team_name,
        branch_id=volunteer.branch_id,
        name=volunteer.name,
        phone=mask_phone(volunteer.phone) if masked else volunteer.phone,
        phone_masked=masked,
        skills=volunteer.skills or [],
        joined_on=volunteer.joined_on,
        status=volunteer.status,
        created_at=volunteer.created_at,
        updated_at=volunteer.updated_at,
    )


def to_public(session: Session, principal: Principal, volunteer: Volunteer) -> VolunteerPublic:
    """A volunteer as the caller may see her: the phone masked without `pii:read`."""
    return _volunteer_public(principal, volunteer, session.get(VolunteerTeam, volunteer.team_id).name)


def list_volunteers(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    team_id: int | None = None,
    status: VolunteerStatus | None = None,
) -> Any:
    stmt = within(session, principal, scoped(select(Volunteer), principal), Volunteer, under)
    if team_id is not None:
        stmt = stmt.where(Volunteer.team_id == team_id)
    if status is not None:
        stmt = stmt.where(Volunteer.status == status.value)
    return page.respond(
        session,
        _volunteer_statement(stmt),
        lambda row: _volunteer_public(principal, row[0], row[1]),
        sortable={
            "name": Volunteer.name,
            "created_at": Volunteer.created_at,
            "joined_on": Volunteer.joined_on,
            "id": Volunteer.id,
        },
        default_sort="-created_at",
        search=[Volunteer.name, Volunteer.phone],
        columns=VOLUNTEER_COLUMNS,
        filename="volunteers",
        scalars=False,
    )


def _team_in_scope(
    session: Session, principal: Principal, team_id: int, field: str = "team_id"
) -> VolunteerTeam:
    try:
        return get_scoped(session, VolunteerTeam, team_id, principal)
    except NotFound:
        raise ValidationFailed(field, "志愿服务队不存在或不在您的管辖范围内") from None


def create_volunteer(session: Session, principal: Principal, data: VolunteerCreate) -> Volunteer:
    team = _team_in_scope(session, principal, data.team_id)
    volunteer = Volunteer(
        **data.model_dump(exclude={"joined_on", "skills"}),
        skills=[s.strip() for s in data.skills if s.strip()],
        joined_on=data.joined_on or today_in_china(),
    )
    _place_like(volunteer, team)
    session.add(volunteer)
    session.flush()
    return volunteer


def update_volunteer(session: Session, volunteer: Volunteer, data: VolunteerUpdate) -> Volunteer:
    changes = data.model_dump(exclude_unset=True)
    _required(changes, "name", "status", "skills")
    for key, value in changes.items():
        setattr(volunteer, key, value)
    volunteer.updated_at = utcnow()
    session.flush()
    return volunteer


def delete_volunteer(session: Session, volunteer: Volunteer) -> None:
    volunteer.soft_delete()
    session.flush()


# ---- service records


RECORD_COLUMNS = [
    Column("date", "服务日期"),
    Column("volunteer_name", "志愿者"),
    Column("team_name", "队伍"),
    Column("hours", "时长(小时)"),
    Column("target_group", "服务对象", "target_group"),
    Column("status", "状态", "service_record_status"),
    Column("reported_by_name", "填报人"),
    Column("decided_by_name", "审核人"),
    Column("reject_reason", "驳回原因"),
]


def _record_statement(stmt):
    volunteer_name = (
        sa.select(Volunteer.name).where(Volunteer.id == ServiceRecord.volunteer_id).scalar_subquery()
    )
    team_name = (
        sa.select(VolunteerTeam.name).where(VolunteerTeam.id == ServiceRecord.team_id).scalar_subquery()
    )
    return stmt.add_columns(volunteer_name.label("volunteer_name"), team_name.label("team_name"))


def _record_public(
    record: ServiceRecord, volunteer_name: str | None = None, team_name: str | None = None
) -> ServiceRecordPublic:
    return ServiceRecordPublic(
        id=record.id,
        volunteer_id=record.volunteer_id,
        volunteer_name=volunteer_name,
        team_id=record.team_id,
        team_name=team_name,
        branch_id=record.branch_id,
        date=record.served_on,
        hours=record.hours,
        target_group=record.target_group,
        activity_id=record.activity_id,
        note=record.note,
        status=record.status,
        reported_by_name=record.reported_by_name,
        decided_by_name=record.decided_by_name,
        decided_at=record.decided_at,
        reject_reason=record.reject_reason,
        created_at=record.created_at,
    )


def record_to_public(session: Session, record: ServiceRecord) -> ServiceRecordPublic:
    row = session.execute(_record_statement(select(ServiceRecord).where(ServiceRecord.id == record.id))).one()
    return _record_public(*row)


def list_service_records(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    status: ServiceRecordStatus | None = None,
    team_id: int | None = None,
    volunteer_id: int | None = None,
    target_group: TargetGroup | None = None,
    activity_id: int | None = None,
    period: Between = Between(),
) -> Any:
    """Service hours in the caller's subtree; `start`/`end` (the API's `from`/`to`) bound the service day, inclusive."""
    stmt = within(session, principal, scoped(select(ServiceRecord), principal), ServiceRecord, under)
    for column, value in (
        (ServiceRecord.team_id, team_id),
        (ServiceRecord.volunteer_id, volunteer_id),
        (ServiceRecord.activity_id, activity_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if status is not None:
        stmt = stmt.where(ServiceRecord.status == status.value)
    if target_group is not None:
        stmt = stmt.where(ServiceRecord.target_group == target_group.value)
    stmt = stmt.where(period.covers_day(ServiceRecord.served_on))
    return page.respond(
        session,
        _record_statement(stmt),
        lambda row: _record_public(*row),
        sortable={
            "date": ServiceRecord.served_on,
            "created_at": ServiceRecord.created_at,
            "hours": ServiceRecord.hours,
            "id": ServiceRecord.id,
        },
        default_sort="-created_at",
        columns=RECORD_COLUMNS,
        filename="service-records",
        scalars=False,
    )


def _check_day(
    session: Session, volunteer_id: int, served_on: date, hours: Decimal, exclude_id: int | None = None
) -> None:
    if served_on > today_in_china():
        raise ValidationFailed("date", "服务日期不能晚于今天")
    stmt = sa.select(sa.func.coalesce(sa.func.sum(ServiceRecord.hours), 0)).where(
        ServiceRecord.volunteer_id == volunteer_id,
        ServiceRecord.served_on == served_on,
        ServiceRecord.deleted_at.is_(None),
        ServiceRecord.status != ServiceRecordStatus.rejected.value,
    )
    if exclude_id is not None:
        stmt = stmt.where(ServiceRecord.id != exclude_id)
    already = Decimal(str(session.execute(stmt).scalar_one()))
    if already + hours > MAX_HOURS_PER_DAY:
        raise ValidationFailed("hours", f"该志愿者当天已登记 {already} 小时,一天合计不能超过 24 小时")


def _activity_in_scope(session: Session, principal: Principal, activity_id: int | None) -> None:
    if activity_id is None:
        return
    try:
        get_scoped(session, Activity, activity_id, principal)
    except NotFound:
        raise ValidationFailed("activity_id", "关联的活动不存在或不在您的管辖范围内") from None


def create_record(session: Session, principal: Principal, data: ServiceRecordCreate) -> ServiceRecord:
    try:
        volunteer = get_scoped(session, Volunteer, data.volunteer_id, principal)
    except NotFound:
        raise ValidationFailed("volunteer_id", "志愿者不存在或不在您的管辖范围内") from None
    if volunteer.status == VolunteerStatus.left:
        raise ValidationFailed("volunteer_id", "该志愿者已退出,不能再登记服务时长")
    served_on = data.date or today_in_china()
    _check_day(session, volunteer.id, served_on, data.hours)
    _activity_in_scope(session, principal, data.activity_id)
    record = ServiceRecord(
        volunteer_id=volunteer.id,
        team_id=volunteer.team_id,
        served_on=served_on,
        hours=data.hours,
        target_group=data.target_group,
        activity_id=data.activity_id,
        note=data.note,
        reported_by=principal.subject,
        reported_by_name=principal.name,
    )
    _place_like(record, volunteer)
    session.add(record)
    session.flush()
    return record


def _pending(record: ServiceRecord, verb: str) -> None:
    if record.status != ServiceRecordStatus.pending:
        raise InvalidTransition(
            f"只有待审核的服务记录才能{verb},这条已{_DONE_WORDS[record.status]}", allowed=[]
        )


def update_record(
    session: Session, principal: Principal, record: ServiceRecord, data: ServiceRecordUpdate
) -> ServiceRecord:
    _pending(record, "修改")
    changes = data.model_dump(exclude_unset=True)
    _required(changes, "date", "hours", "target_group")
    if "activity_id" in changes:
        _activity_in_scope(session, principal, changes["activity_id"])
    if "date" in changes:
        changes["served_on"] = changes.pop("date")
    for key, value in changes.items():
        setattr(record, key, value)
    _check_day(session, record.volunteer_id, record.served_on, record.hours, exclude_id=record.id)
    record.updated_at = utcnow()
    session.flush()
    return record


def delete_record(session: Session, record: ServiceRecord) -> None:
    if record.status == ServiceRecordStatus.approved:
        raise Conflict("已审核通过的服务记录不能删除")
    record.soft_delete()
    session.flush()


def _may_decide(session: Session, principal: Principal, record: ServiceRecord) -> None:
    team = session.get(VolunteerTeam, record.team_id)
    is_leader = principal.kind == "user" and team is not None and team.leader_user_id == principal.id
    if not (principal.can("volunteers:approve") or is_leader):
        raise Forbidden("只有本队队长或妇联干部可以审核服务时长")
    # Nobody approves hours she reported herself.
    if record.reported_by == principal.subject:
        raise Forbidden("不能审核自己填报的服务时长,请由队长或其他干部审核")


def approve(
    session: Session, principal: Principal, record: ServiceRecord, data: ApproveAction
) -> ServiceRecord:
    _pending(record, "审核通过")
    _may_decide(session, principal, record)
    _decide(record, principal, ServiceRecordStatus.approved)
    if data.note:
        record.note = data.note if not record.note else f"{record.note}\n审核意见:{data.note}"
    session.flush()
    return record


def reject(
    session: Session, principal: Principal, record: ServiceRecord, data: RejectAction
) -> ServiceRecord:
    _pending(record, "驳回")
    _may_decide(session, principal, record)
    _decide(record, principal, ServiceRecordStatus.rejected)
    record.reject_reason = data.reason
    session.flush()
    return record


def _decide(record: ServiceRecord, principal: Principal, status: ServiceRecordStatus) -> None:
    now = utcnow()
    record.status = status
    record.decided_by = principal.subject
    record.decided_by_name = principal.name
    record.decided_at = now
    record.updated_at = now


# ---- figures


def _hours(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.1"))


def stats(session: Session, principal: Principal, root: Branch, period: Period) -> VolunteerStats:
    depth = root.depth
    teams = scoped(select(VolunteerTeam.id), principal).where(subtree_filter(VolunteerTeam, root.id, depth))
    volunteers = scoped(select(Volunteer.id), principal).where(
        subtree_filter(Volunteer, root.id, depth), Volunteer.status == VolunteerStatus.active.value
    )
    records = scoped(select(ServiceRecord), principal).where(
        subtree_filter(ServiceRecord, root.id, depth), period.covers_day(ServiceRecord.served_on)
    )
    totals = dict(
        (s, (n, h))
        for s, n, h in session.execute(
            records.with_only_columns(
                ServiceRecord.status, sa.func.count(), sa.func.sum(ServiceRecord.hours)
            ).group_by(ServiceRecord.status)
        ).all()
    )
    approved = records.where(ServiceRecord.status == APPROVED)
    by_team = session.execute(
        approved.join(VolunteerTeam, VolunteerTeam.id == ServiceRecord.team_id)
        .with_only_columns(
            ServiceRecord.team_id,
            VolunteerTeam.name,
            VolunteerTeam.branch_id,
            sa.func.count(),
            sa.func.sum(ServiceRecord.hours),
        )
        .group_by(ServiceRecord.team_id, VolunteerTeam.name, VolunteerTeam.branch_id)
        .order_by(sa.func.sum(ServiceRecord.hours).desc(), ServiceRecord.team_id)
    ).all()
    by_group = session.execute(
        approved.with_only_columns(
            ServiceRecord.target_group, sa.func.count(), sa.func.sum(ServiceRecord.hours)
        )
        .group_by(ServiceRecord.target_group)
        .order_by(ServiceRecord.target_group)
    ).all()
    by_branch: list[BranchHours] = []
    if depth < 8:
        child_col = getattr(ServiceRecord, f"a{depth + 1}")
        rows = session.execute(
            approved.with_only_columns(child_col, sa.func.sum(ServiceRecord.hours)).group_by(child_col)
        ).all()
        names = dict(
            session.execute(
                sa.select(Branch.id, Branch.name).where(
                    Branch.id.in_([r[0] for r in rows if r[0] is not None])
                )
            ).all()
        )
        by_branch = sorted(
            (
                BranchHours(
                    branch_id=child or root.id,
                    branch_name=names.get(child, "") if child else f"{root.name}(本级)",
                    hours=_hours(h),
                )
                for child, h in rows
            ),
            key=lambda b: (-b.hours, b.branch_id),
        )
    count = lambda stmt: session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()  # noqa: E731
    return VolunteerStats(
        branch_id=root.id,
        branch_name=root.name,
        period=period.out(),
        teams=count(teams),
        volunteers=count(volunteers),
        approved_hours=_hours(totals.get(APPROVED, (0, 0))[1]),
        approved_records=totals.get(APPROVED, (0, 0))[0],
        pending_hours=_hours(totals.get("pending", (0, 0))[1]),
        pending_records=totals.get("pending", (0, 0))[0],
        by_team=[
            TeamHours(team_id=t, team_name=n, branch_id=b, records=c, hours=_hours(h))
            for t, n, b, c, h in by_team
        ],
        by_target_group=[
            TargetGroupHours(target_group=g, records=c, hours=_hours(h)) for g, c, h in by_group
        ],
        by_branch=by_branch,
    )
