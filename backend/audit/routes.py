from datetime import datetime
from typing import Annotated

from fastapi import Query
from sqlmodel import select

from backend.audit.schemas import AuditList, AuditPublic
from backend.core.audit_models import AuditLog
from backend.core.deps import AuditRead, SessionDep
from backend.core.paging import LIST_RESPONSES, Column, PageDep
from backend.core.scope import scoped, within
from backend.core.uow import Router

router = Router(prefix="/audit", tags=["audit"])

AUDIT_COLUMNS = [
    Column("at", "时间"),
    Column("actor_name", "操作人"),
    Column("actor", "账号"),
    Column("action", "操作", "audit_action"),
    Column("entity", "对象"),
    Column("entity_id", "对象ID"),
    Column("field", "字段"),
    Column("before", "修改前", value=lambda r: str(r.get("before") or "")),
    Column("after", "修改后", value=lambda r: str(r.get("after") or "")),
    Column("ip", "IP"),
]


@router.get("", response_model=AuditList, responses=LIST_RESPONSES)
def list_audit(
    session: SessionDep,
    principal: AuditRead,
    page: PageDep,
    action: Annotated[list[str] | None, Query()] = None,
    actor: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    under: Annotated[int | None, Query(description="只看某组织及其下级")] = None,
):
    """The append-only audit trail of the caller's subtree, newest first."""
    stmt = scoped(select(AuditLog), principal)
    if action:
        stmt = stmt.where(AuditLog.action.in_(action))
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if entity:
        stmt = stmt.where(AuditLog.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    if since:
        stmt = stmt.where(AuditLog.at >= since)
    if until:
        stmt = stmt.where(AuditLog.at < until)
    stmt = within(session, principal, stmt, AuditLog, under)
    return page.respond(
        session,
        stmt,
        AuditPublic,
        sortable={"at": AuditLog.at, "id": AuditLog.id},
        default_sort="-at",
        search=[AuditLog.actor_name, AuditLog.entity],
        columns=AUDIT_COLUMNS,
        filename="audit",
    )
