"""Reading the audit trail (the core writes it: backend.core.audit)."""

from typing import Any

from sqlmodel import Session, select

from backend.audit.schemas import AuditPublic
from backend.core.audit_models import AuditLog
from backend.core.clock import Between
from backend.core.paging import Column, ListParams
from backend.core.scope import Principal, scoped, within

COLUMNS = [
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


def to_public(entry: AuditLog) -> AuditPublic:
    return AuditPublic.model_validate(entry, from_attributes=True)


def list_audit(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    action: list[str] | None = None,
    actor: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    period: Between = Between(),
    under: int | None = None,
) -> Any:
    """The append-only trail of the caller's subtree, newest first; `start`/`end` are China days, inclusive."""
    stmt = scoped(select(AuditLog), principal)
    if action:
        stmt = stmt.where(AuditLog.action.in_(action))
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if entity:
        stmt = stmt.where(AuditLog.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    stmt = stmt.where(period.covers(AuditLog.at))
    stmt = within(session, principal, stmt, AuditLog, under)
    return page.respond(
        session,
        stmt,
        to_public,
        sortable={"at": AuditLog.at, "id": AuditLog.id},
        default_sort="-at",
        search=[AuditLog.actor_name, AuditLog.entity],
        columns=COLUMNS,
        filename="audit",
    )
