from datetime import date
from typing import Annotated

from fastapi import Query
from sqlmodel import select

from backend.activities.service import resolve_period
from backend.branches.models import Branch
from backend.core.deps import SessionDep, perm
from backend.core.paging import LIST_RESPONSES, Column, PageDep
from backend.core.scope import get_scoped, scoped, within
from backend.core.uow import Router
from backend.volunteers import service
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
    RejectAction,
    ServiceRecordCreate,
    ServiceRecordList,
    ServiceRecordPublic,
    ServiceRecordUpdate,
    TeamCreate,
    TeamList,
    TeamPublic,
    TeamUpdate,
    VolunteerCreate,
    VolunteerList,
    VolunteerPublic,
    VolunteerStats,
    VolunteerUpdate,
)

teams_router = Router(prefix="/volunteer-teams", tags=["volunteers"])
volunteers_router = Router(prefix="/volunteers", tags=["volunteers"])
records_router = Router(prefix="/service-records", tags=["volunteers"])
routers = [teams_router, volunteers_router, records_router]

VolunteersRead = perm("volunteers:read")
VolunteersWrite = perm("volunteers:write")

Under = Annotated[int | None, Query(description="只看某组织及其全部下级")]


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


@teams_router.get("", response_model=TeamList, responses=LIST_RESPONSES)
def list_teams(
    session: SessionDep,
    principal: VolunteersRead,
    page: PageDep,
    under: Under = None,
    type: TeamType | None = None,
):
    stmt = within(session, principal, scoped(select(VolunteerTeam), principal), VolunteerTeam, under)
    if type is not None:
        stmt = stmt.where(VolunteerTeam.type == type.value)
    return page.respond(
        session,
        service.team_statement(stmt),
        service.team_row,
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


@teams_router.get("/stats", response_model=VolunteerStats)
def volunteer_stats(
    session: SessionDep,
    principal: VolunteersRead,
    under: Annotated[int | None, Query(description="统计哪个组织及其下级,默认本人所在组织")] = None,
    date_from: Annotated[date | None, Query(description="默认今年 1 月 1 日")] = None,
    date_to: Annotated[date | None, Query(description="默认今天")] = None,
):
    root = get_scoped(session, Branch, under or principal.branch_id, principal)
    date_from, date_to = resolve_period(date_from, date_to)
    return service.stats(session, principal, root, date_from, date_to)


@teams_router.post("", response_model=TeamPublic, status_code=201)
def create_team(session: SessionDep, principal: VolunteersWrite, body: TeamCreate):
    return service.team_detail(session, service.create_team(session, principal, body))


@teams_router.get("/{team_id}", response_model=TeamPublic)
def get_team(session: SessionDep, principal: VolunteersRead, team_id: int):
    return service.team_detail(session, get_scoped(session, VolunteerTeam, team_id, principal))


@teams_router.patch("/{team_id}", response_model=TeamPublic)
def update_team(session: SessionDep, principal: VolunteersWrite, team_id: int, body: TeamUpdate):
    team = get_scoped(session, VolunteerTeam, team_id, principal)
    return service.team_detail(session, service.update_team(session, principal, team, body))


@teams_router.delete("/{team_id}", status_code=204)
def delete_team(session: SessionDep, principal: VolunteersWrite, team_id: int):
    service.delete_team(session, get_scoped(session, VolunteerTeam, team_id, principal))


# ---- volunteers

VOLUNTEER_COLUMNS = [
    Column("name", "姓名"),
    Column("team_name", "所在队伍"),
    Column("phone", "电话"),
    Column("skills", "特长"),
    Column("joined_on", "加入日期"),
    Column("status", "状态", "volunteer_status"),
]


@volunteers_router.get("", response_model=VolunteerList, responses=LIST_RESPONSES)
def list_volunteers(
    session: SessionDep,
    principal: VolunteersRead,
    page: PageDep,
    under: Under = None,
    team_id: int | None = None,
    status: VolunteerStatus | None = None,
):
    stmt = within(session, principal, scoped(select(Volunteer), principal), Volunteer, under)
    if team_id is not None:
        stmt = stmt.where(Volunteer.team_id == team_id)
    if status is not None:
        stmt = stmt.where(Volunteer.status == status.value)
    return page.respond(
        session,
        service.volunteer_statement(stmt),
        service.volunteer_converter(principal),
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


@volunteers_router.post("", response_model=VolunteerPublic, status_code=201)
def create_volunteer(session: SessionDep, principal: VolunteersWrite, body: VolunteerCreate):
    volunteer = service.create_volunteer(session, principal, body)
    return service.volunteer_public(principal, volunteer, session.get(VolunteerTeam, volunteer.team_id).name)


@volunteers_router.get("/{volunteer_id}", response_model=VolunteerPublic)
def get_volunteer(session: SessionDep, principal: VolunteersRead, volunteer_id: int):
    volunteer = get_scoped(session, Volunteer, volunteer_id, principal)
    return service.volunteer_public(principal, volunteer, session.get(VolunteerTeam, volunteer.team_id).name)


@volunteers_router.patch("/{volunteer_id}", response_model=VolunteerPublic)
def update_volunteer(
    session: SessionDep, principal: VolunteersWrite, volunteer_id: int, body: VolunteerUpdate
):
    volunteer = service.update_volunteer(
        session, get_scoped(session, Volunteer, volunteer_id, principal), body
    )
    return service.volunteer_public(principal, volunteer, session.get(VolunteerTeam, volunteer.team_id).name)


@volunteers_router.delete("/{volunteer_id}", status_code=204)
def delete_volunteer(session: SessionDep, principal: VolunteersWrite, volunteer_id: int):
    service.delete_volunteer(session, get_scoped(session, Volunteer, volunteer_id, principal))


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


@records_router.get("", response_model=ServiceRecordList, responses=LIST_RESPONSES)
def list_service_records(
    session: SessionDep,
    principal: VolunteersRead,
    page: PageDep,
    under: Under = None,
    status: ServiceRecordStatus | None = None,
    team_id: int | None = None,
    volunteer_id: int | None = None,
    target_group: TargetGroup | None = None,
    activity_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
):
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
    if date_from is not None:
        stmt = stmt.where(ServiceRecord.served_on >= date_from)
    if date_to is not None:
        stmt = stmt.where(ServiceRecord.served_on <= date_to)
    return page.respond(
        session,
        service.record_statement(stmt),
        service.record_row,
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


@records_router.post("", response_model=ServiceRecordPublic, status_code=201)
def create_service_record(session: SessionDep, principal: VolunteersWrite, body: ServiceRecordCreate):
    return service.record_detail(session, service.create_record(session, principal, body))


@records_router.get("/{record_id}", response_model=ServiceRecordPublic)
def get_service_record(session: SessionDep, principal: VolunteersRead, record_id: int):
    return service.record_detail(session, get_scoped(session, ServiceRecord, record_id, principal))


@records_router.patch("/{record_id}", response_model=ServiceRecordPublic)
def update_service_record(
    session: SessionDep, principal: VolunteersWrite, record_id: int, body: ServiceRecordUpdate
):
    record = get_scoped(session, ServiceRecord, record_id, principal, for_update=True)
    return service.record_detail(session, service.update_record(session, principal, record, body))


@records_router.delete("/{record_id}", status_code=204)
def delete_service_record(session: SessionDep, principal: VolunteersWrite, record_id: int):
    service.delete_record(session, get_scoped(session, ServiceRecord, record_id, principal, for_update=True))


@records_router.post("/{record_id}/actions/approve", response_model=ServiceRecordPublic)
def approve_service_record(
    session: SessionDep, principal: VolunteersWrite, record_id: int, body: ApproveAction | None = None
):
    """审核通过(本队队长或妇联干部;不能审核自己填报的)."""
    record = get_scoped(session, ServiceRecord, record_id, principal, for_update=True)
    return service.record_detail(
        session, service.approve(session, principal, record, body or ApproveAction())
    )


@records_router.post("/{record_id}/actions/reject", response_model=ServiceRecordPublic)
def reject_service_record(
    session: SessionDep, principal: VolunteersWrite, record_id: int, body: RejectAction
):
    """驳回,须写明原因."""
    record = get_scoped(session, ServiceRecord, record_id, principal, for_update=True)
    return service.record_detail(session, service.reject(session, principal, record, body))
