from datetime import date
from typing import Annotated

from fastapi import Body, Header, Query, Response
from sqlmodel import select

from backend.core.deps import SessionDep, SettingsAdmin, perm
from backend.core.errors import NotFound
from backend.core.paging import LIST_RESPONSES, Column, PageDep
from backend.core.scope import get_scoped, scoped, within
from backend.core.uow import Router, writes
from backend.meta.dictionaries import label
from backend.tickets import schemas as s
from backend.tickets import service
from backend.tickets.models import Action, Category, Channel, Status, Ticket, Urgency

router = Router(prefix="/tickets", tags=["tickets"])

TicketsRead = perm("tickets:read")
TicketsWrite = perm("tickets:write")
TicketsStats = perm("tickets:stats")
PiiRead = perm("pii:read")

COLUMNS = [
    Column("number", "编号"),
    Column("created_at", "登记时间"),
    Column("channel", "来源", "ticket_channel"),
    Column("category", "类别", "ticket_category"),
    Column("urgency", "紧急程度", "ticket_urgency"),
    Column("status", "状态", "ticket_status"),
    Column("caller_name", "来电人"),
    Column("caller_phone", "来电号码"),
    Column("summary", "摘要"),
    Column("first_response_due_at", "首次响应时限"),
    Column("resolution_due_at", "办结时限"),
    Column("overdue", "已超时"),
    Column("satisfaction", "回访满意度", "satisfaction"),
]
SORTABLE = {
    "created_at": Ticket.created_at,
    "number": Ticket.number,
    "status": Ticket.status,
    "urgency": Ticket.urgency,
    "resolution_due_at": Ticket.resolution_due_at,
    "first_response_due_at": Ticket.first_response_due_at,
    "updated_at": Ticket.updated_at,
    "id": Ticket.id,
}
IfMatch = Annotated[str | None, Header(description='"<version>":与当前版本不符时答 412')]


def _with_etag(response: Response, ticket: Ticket) -> None:
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
    status: Annotated[list[Status] | None, Query(description="状态,可多选")] = None,
    category: Annotated[list[Category] | None, Query(description="类别,可多选")] = None,
    urgency: Annotated[list[Urgency] | None, Query()] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    overdue: Annotated[bool | None, Query(description="true:只看已超时未办结的工单")] = None,
    sealed: bool | None = None,
    mine: Annotated[bool | None, Query(description="true:只看分派给我的")] = None,
    under: Annotated[int | None, Query(description="只看某组织及其下级承办的")] = None,
    created_from: date | None = None,
    created_to: date | None = None,
):
    now = service.utcnow()
    stmt = scoped(select(Ticket), principal)
    for column, values in (
        (Ticket.status, status),
        (Ticket.category, category),
        (Ticket.urgency, urgency),
        (Ticket.channel, channel),
    ):
        if values:
            stmt = stmt.where(column.in_([v.value for v in values]))
    if overdue is True:
        stmt = stmt.where(service.overdue_condition(now))
    elif overdue is False:
        stmt = stmt.where(~service.overdue_condition(now))
    if sealed is not None:
        stmt = stmt.where(Ticket.sealed.is_(sealed))
    if mine:
        stmt = stmt.where(Ticket.assignee_id == principal.id)
    stmt = within(session, principal, stmt, Ticket, under)
    stmt = service.created_between(stmt, created_from, created_to)
    return page.respond(
        session,
        stmt,
        lambda t: service.to_public(t, now),
        sortable=SORTABLE,
        default_sort="-created_at",
        search=[Ticket.number, Ticket.summary],
        columns=COLUMNS,
        filename="12338工单",
    )


@router.get("/stats", response_model=s.TicketStats)
def ticket_stats(
    session: SessionDep,
    principal: TicketsStats,
    period_from: Annotated[
        date | None, Query(alias="from", description="开始日期(含),默认今年 1 月 1 日")
    ] = None,
    period_to: Annotated[date | None, Query(alias="to", description="结束日期(含),默认今天")] = None,
    under: Annotated[int | None, Query(description="只统计某组织及其下级")] = None,
):
    return service.ticket_stats(session, principal, period_from, period_to, under)


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
    ticket = get_scoped(session, Ticket, ticket_id, principal)
    _with_etag(response, ticket)
    return service.detail(session, principal, ticket)


@router.get("/{ticket_id}/caller", response_model=s.CallerPublic)
@writes
def reveal_caller(session: SessionDep, principal: PiiRead, ticket_id: int):
    """The caller's name and phone in clear; every call is written to the audit trail."""
    if not principal.can("tickets:read"):
        raise NotFound("12338 工单不存在或无权查看")
    ticket = get_scoped(session, Ticket, ticket_id, principal)
    return service.reveal_caller(session, principal, ticket)


def _step_route(action: Action, model: type):
    optional = model is s.EmptyBody

    def step(
        session: SessionDep,
        principal: TicketsWrite,
        ticket_id: int,
        response: Response,
        body: model = None if optional else Body(),
        if_match: IfMatch = None,
    ):  # type: ignore[valid-type]
        ticket = get_scoped(session, Ticket, ticket_id, principal, for_update=True)
        service.check_version(ticket, if_match)
        service.perform(session, principal, ticket, action, body or s.EmptyBody())
        _with_etag(response, ticket)
        return service.detail(session, principal, ticket)

    router.add_api_route(
        f"/{{ticket_id}}/actions/{action.value}",
        step,
        methods=["POST"],
        response_model=s.TicketDetail,
        name=f"action_{action.value}",
        summary=f"{label('ticket_action', action)}({action.value})",
        description="工作流的一步;当前状态不允许时答 409,`allowed` 列出现在可做的步骤;If-Match 版本不符答 412。",
        responses={409: {"description": "当前状态下不能执行此操作"}, 412: {"description": "版本不符"}},
    )


for _action, _model in service.BODIES.items():
    _step_route(_action, _model)
