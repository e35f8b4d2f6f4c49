from datetime import date
from typing import Annotated

from fastapi import Query, Response

from backend.core.clock import BetweenDep, PeriodDep
from backend.core.deps import SessionDep, SettingsAdmin, perm
from backend.core.errors import NotFound
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.uow import Router, writes
from backend.core.workflow import action_routes
from backend.tickets import schemas as s
from backend.tickets import service
from backend.tickets.models import Category, Channel, Status, Urgency

router = Router(prefix="/tickets", tags=["tickets"])

TicketsRead = perm("tickets:read")
TicketsWrite = perm("tickets:write")
TicketsStats = perm("tickets:stats")
PiiRead = perm("pii:read")


def _with_etag(response: Response, ticket) -> None:
    response.headers["ETag"] = service.etag(ticket)


@router.post("", response_model=s.TicketDetail, status_code=201)
def create_ticket(session: SessionDep, principal: TicketsWrite, body: s.TicketCreate, response: Response):
    ticket = service.create_ticket(session, principal, body)
    _with_etag(response, ticket)
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    return service.detail(session, principal, ticket)


@router.get("", response_model=s.TicketList, responses=LIST_RESPONSES)
def list_tickets(
    session: SessionDep,
    principal: TicketsRead,
    page: PageDep,
    period: BetweenDep,
    status: Annotated[list[Status] | None, Query(description="状态,可多选")] = None,
    category: Annotated[list[Category] | None, Query(description="类别,可多选")] = None,
    urgency: Annotated[list[Urgency] | None, Query()] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    overdue: Annotated[bool | None, Query(description="true:只看已超时未办结的工单")] = None,
    sealed: bool | None = None,
    mine: Annotated[bool | None, Query(description="true:只看分派给我的")] = None,
    under: Annotated[int | None, Query(description="只看某组织及其下级承办的")] = None,
):
    return service.list_tickets(
        session,
        principal,
        page,
        status=status,
        category=category,
        urgency=urgency,
        channel=channel,
        overdue=overdue,
        sealed=sealed,
        mine=mine,
        under=under,
        period=period,
    )


@router.get("/stats", response_model=s.TicketStats)
def ticket_stats(
    session: SessionDep,
    principal: TicketsStats,
    period: PeriodDep,
    under: Annotated[int | None, Query(description="只统计某组织及其下级")] = None,
):
    return service.ticket_stats(session, principal, period, under)


@router.get("/sla", response_model=s.SlaSettings)
def get_sla(session: SessionDep, principal: TicketsRead):
    return service.sla_settings(session)


@router.put("/sla", response_model=s.SlaSettings)
def update_sla(session: SessionDep, principal: SettingsAdmin, body: s.SlaUpdate):
    """Applies to tickets taken from now on; existing tickets keep their deadlines."""
    return service.update_sla(session, principal, body)


@router.get("/calendar", response_model=s.CalendarYear)
def get_calendar(session: SessionDep, principal: TicketsRead, year: Annotated[int, Query(ge=2000, le=2100)]):
    return service.calendar_year(session, year)


@router.put("/calendar/{day}", response_model=s.CalendarOverridePublic)
def set_calendar_day(session: SessionDep, principal: SettingsAdmin, day: date, body: s.CalendarDayIn):
    """Mark a day as a local holiday or an extra working day (overrides the State Council calendar)."""
    return service.set_calendar_day(session, principal, day, body)


@router.delete("/calendar/{day}", status_code=204)
def remove_calendar_day(session: SessionDep, principal: SettingsAdmin, day: date):
    service.remove_calendar_day(session, day)


@router.get("/{ticket_id}", response_model=s.TicketDetail)
def get_ticket(session: SessionDep, principal: TicketsRead, ticket_id: int, response: Response):
    ticket = service.get_ticket(session, principal, ticket_id)
    _with_etag(response, ticket)
    return service.detail(session, principal, ticket)


@router.get("/{ticket_id}/caller", response_model=s.CallerPublic)
@writes
def reveal_caller(session: SessionDep, principal: PiiRead, ticket_id: int):
    """The caller's name and phone in clear; every call is written to the audit trail."""
    if not principal.can("tickets:read"):
        raise NotFound("12338 工单不存在或无权查看")
    ticket = service.get_ticket(session, principal, ticket_id)
    return service.reveal_caller(session, principal, ticket)


action_routes(
    router,
    service.WORKFLOW,
    id_name="ticket_id",
    load=lambda session, principal, ticket_id: service.get_ticket(
        session, principal, ticket_id, for_update=True
    ),
    act=service.perform,
    present=service.detail,
    response_model=s.TicketDetail,
    versioned=service.versioned,
)
