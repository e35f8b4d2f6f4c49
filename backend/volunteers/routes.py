from typing import Annotated

from fastapi import Query

from backend.branches.models import Branch
from backend.core.clock import BetweenDep, PeriodDep
from backend.core.deps import SessionDep, perm
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.scope import get_scoped
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


@teams_router.get("", response_model=TeamList, responses=LIST_RESPONSES)
def list_teams(
    session: SessionDep,
    principal: VolunteersRead,
    page: PageDep,
    under: Under = None,
    type: TeamType | None = None,
):
    return service.list_teams(session, principal, page, under=under, type=type)


@teams_router.get("/stats", response_model=VolunteerStats)
def volunteer_stats(
    session: SessionDep,
    principal: VolunteersRead,
    period: PeriodDep,
    under: Annotated[int | None, Query(description="统计哪个组织及其下级,默认本人所在组织")] = None,
):
    root = get_scoped(session, Branch, under or principal.branch_id, principal)
    return service.stats(session, principal, root, period)


@teams_router.post("", response_model=TeamPublic, status_code=201)
def create_team(session: SessionDep, principal: VolunteersWrite, body: TeamCreate):
    return service.team_to_public(session, service.create_team(session, principal, body))


@teams_router.get("/{team_id}", response_model=TeamPublic)
def get_team(session: SessionDep, principal: VolunteersRead, team_id: int):
    return service.team_to_public(session, get_scoped(session, VolunteerTeam, team_id, principal))


@teams_router.patch("/{team_id}", response_model=TeamPublic)
def update_team(session: SessionDep, principal: VolunteersWrite, team_id: int, body: TeamUpdate):
    team = get_scoped(session, VolunteerTeam, team_id, principal)
    return service.team_to_public(session, service.update_team(session, principal, team, body))


@teams_router.delete("/{team_id}", status_code=204)
def delete_team(session: SessionDep, principal: VolunteersWrite, team_id: int):
    service.delete_team(session, get_scoped(session, VolunteerTeam, team_id, principal))


# ---- volunteers


@volunteers_router.get("", response_model=VolunteerList, responses=LIST_RESPONSES)
def list_volunteers(
    session: SessionDep,
    principal: VolunteersRead,
    page: PageDep,
    under: Under = None,
    team_id: int | None = None,
    status: VolunteerStatus | None = None,
):
    return service.list_volunteers(session, principal, page, under=under, team_id=team_id, status=status)


@volunteers_router.post("", response_model=VolunteerPublic, status_code=201)
def create_volunteer(session: SessionDep, principal: VolunteersWrite, body: VolunteerCreate):
    volunteer = service.create_volunteer(session, principal, body)
    return service.to_public(session, principal, volunteer)


@volunteers_router.get("/{volunteer_id}", response_model=VolunteerPublic)
def get_volunteer(session: SessionDep, principal: VolunteersRead, volunteer_id: int):
    volunteer = get_scoped(session, Volunteer, volunteer_id, principal)
    return service.to_public(session, principal, volunteer)


@volunteers_router.patch("/{volunteer_id}", response_model=VolunteerPublic)
def update_volunteer(
    session: SessionDep, principal: VolunteersWrite, volunteer_id: int, body: VolunteerUpdate
):
    volunteer = service.update_volunteer(
        session, get_scoped(session, Volunteer, volunteer_id, principal), body
    )
    return service.to_public(session, principal, volunteer)


@volunteers_router.delete("/{volunteer_id}", status_code=204)
def delete_volunteer(session: SessionDep, principal: VolunteersWrite, volunteer_id: int):
    service.delete_volunteer(session, get_scoped(session, Volunteer, volunteer_id, principal))


# ---- service records


@records_router.get("", response_model=ServiceRecordList, responses=LIST_RESPONSES)
def list_service_records(
    session: SessionDep,
    principal: VolunteersRead,
    page: PageDep,
    period: BetweenDep,
    under: Under = None,
    status: ServiceRecordStatus | None = None,
    team_id: int | None = None,
    volunteer_id: int | None = None,
    target_group: TargetGroup | None = None,
    activity_id: int | None = None,
):
    return service.list_service_records(
        session,
        principal,
        page,
        under=under,
        status=status,
        team_id=team_id,
        volunteer_id=volunteer_id,
        target_group=target_group,
        activity_id=activity_id,
        period=period,
    )


@records_router.post("", response_model=ServiceRecordPublic, status_code=201)
def create_service_record(session: SessionDep, principal: VolunteersWrite, body: ServiceRecordCreate):
    return service.record_to_public(session, service.create_record(session, principal, body))


@records_router.get("/{record_id}", response_model=ServiceRecordPublic)
def get_service_record(session: SessionDep, principal: VolunteersRead, record_id: int):
    return service.record_to_public(session, get_scoped(session, ServiceRecord, record_id, principal))


@records_router.patch("/{record_id}", response_model=ServiceRecordPublic)
def update_service_record(
    session: SessionDep, principal: VolunteersWrite, record_id: int, body: ServiceRecordUpdate
):
    record = get_scoped(session, ServiceRecord, record_id, principal, for_update=True)
    return service.record_to_public(session, service.update_record(session, principal, record, body))


@records_router.delete("/{record_id}", status_code=204)
def delete_service_record(session: SessionDep, principal: VolunteersWrite, record_id: int):
    service.delete_record(session, get_scoped(session, ServiceRecord, record_id, principal, for_update=True))


@records_router.post("/{record_id}/actions/approve", response_model=ServiceRecordPublic)
def approve_service_record(
    session: SessionDep, principal: VolunteersWrite, record_id: int, body: ApproveAction | None = None
):
    """审核通过(本队队长或妇联干部;不能审核自己填报的)."""
    record = get_scoped(session, ServiceRecord, record_id, principal, for_update=True)
    return service.record_to_public(
        session, service.approve(session, principal, record, body or ApproveAction())
    )


@records_router.post("/{record_id}/actions/reject", response_model=ServiceRecordPublic)
def reject_service_record(
    session: SessionDep, principal: VolunteersWrite, record_id: int, body: RejectAction
):
    """驳回,须写明原因."""
    record = get_scoped(session, ServiceRecord, record_id, principal, for_update=True)
    return service.record_to_public(session, service.reject(session, principal, record, body))
