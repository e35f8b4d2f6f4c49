"""The audit trail: every write is recorded by session events, plus logins and every reveal of personal data."""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import attributes

from backend.core.audit_models import AuditLog
from backend.core.db import utcnow
from backend.core.errors import Forbidden
from backend.core.scope import ANCESTOR_COLUMNS, Principal
from backend.core.security import decrypt_field

# Bookkeeping tables whose rows are not "writes" a person made.
_SKIP_TABLES = {"audit_log", "idempotency_key", "refresh_token", "revoked_token"}
_NOISE = {"updated_at", *ANCESTOR_COLUMNS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _auditable(obj: Any) -> bool:
    table = getattr(obj, "__tablename__", None)
    return table is not None and table not in _SKIP_TABLES and getattr(obj, "__audit__", True)


def _excluded(obj: Any) -> set[str]:
    return set(getattr(obj, "__audit_exclude__", ())) | _NOISE


def _snapshot(obj: Any) -> dict[str, Any]:
    skip = _excluded(obj)
    mapper = inspect(obj).mapper
    return {a.key: _jsonable(getattr(obj, a.key)) for a in mapper.column_attrs if a.key not in skip}


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    skip = _excluded(obj)
    for attr in inspect(obj).mapper.column_attrs:
        hist = attributes.get_history(obj, attr.key)
        if not hist.has_changes() or attr.key in skip:
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new:
            continue
        before[attr.key] = _jsonable(old)
        after[attr.key] = _jsonable(new)
    for key in set(getattr(obj, "__audit_exclude__", ())):
        attr = getattr(type(obj), key, None)
        if attr is not None and attributes.get_history(obj, key).has_changes():
            after[key] = "<changed>"
    return before, after


def _placement(obj: Any) -> dict[str, Any]:
    if getattr(obj, "__tablename__", None) == "branch":
        placed = {"branch_id": obj.id}
    else:
        placed = {"branch_id": getattr(obj, "branch_id", None)}
    for name in ANCESTOR_COLUMNS:
        placed[name] = getattr(obj, name, None)
    return placed


def _actor(session: OrmSession) -> tuple[str | None, str | None]:
    principal: Principal | None = session.info.get("principal")
    if principal is None:
        return session.info.get("actor"), session.info.get("actor_name")
    return principal.subject, principal.name


def _entry(session: OrmSession, obj: Any, action: str, before: Any, after: Any) -> dict[str, Any]:
    actor, actor_name = _actor(session)
    return {
        "at": utcnow(),
        "actor": actor,
        "actor_name": actor_name,
        "action": action,
        "entity": obj.__tablename__,
        "entity_id": str(getattr(obj, "id", None) or getattr(obj, "jti", "")),
        "field": None,
        "before": before,
        "after": after,
        "ip": session.info.get("ip"),
        **_placement(obj),
    }


@event.listens_for(OrmSession, "before_flush")
def _collect(session: OrmSession, _ctx, _instances) -> None:
    pending = session.info.setdefault("audit_pending", [])
    for obj in session.dirty:
        if not _auditable(obj) or not session.is_modified(obj, include_collections=False):
            continue
        before, after = _changes(obj)
        if not after:
            continue
        action = "delete" if after.get("deleted_at") and before.get("deleted_at") is None else "update"
        pending.append(("entry", obj, action, before, after))
    for obj in session.deleted:
        if _auditable(obj):
            pending.append(("entry", obj, "delete", _snapshot(obj), None))
    for obj in session.new:
        if _auditable(obj):
            pending.append(("new", obj, "create", None, None))


@event.listens_for(OrmSession, "after_flush")
def _write(session: OrmSession, _ctx) -> None:
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    rows = []
    for kind, obj, action, before, after in pending:
        if kind == "new":
            rows.append(_entry(session, obj, action, None, _snapshot(obj)))
        else:
            rows.append(_entry(session, obj, action, before, after))
    session.connection().execute(AuditLog.__table__.insert(), rows)


def record(
    session: OrmSession,
    action: str,
    *,
    principal: Principal | None = None,
    actor: str | None = None,
    actor_name: str | None = None,
    entity: str | None = None,
    entity_id: Any = None,
    placed_in: Any = None,
    field: str | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """An explicit entry for what is not a row change: logins, failed logins, reveals."""
    entry = AuditLog(
        actor=principal.subject if principal else actor,
        actor_name=principal.name if principal else actor_name,
        action=action,
        entity=entity,
        entity_id=str(entity_id) if entity_id is not None else None,
        field=field,
        after=after,
        ip=session.info.get("ip"),
    )
    if placed_in is not None:
        for key, value in _placement(placed_in).items():
            setattr(entry, key, value)
        if getattr(placed_in, "__tablename__", None) == "branch":
            entry.branch_id = placed_in.id
    session.add(entry)


def record_reveal(session: OrmSession, principal: Principal, record_obj: Any, fields: list[str]) -> None:
    """Every time a person sees a sensitive field in clear, the trail says who, when and which."""
    record(
        session,
        "reveal",
        principal=principal,
        entity=record_obj.__tablename__,
        entity_id=record_obj.id,
        placed_in=record_obj,
        field=",".join(fields),
    )


def reveal(
    session: OrmSession, principal: Principal, record_obj: Any, fields: list[str]
) -> dict[str, str | None]:
    """The one way a person sees personal data in clear: check `pii:read`, decrypt `<field>_enc`, audit the reveal.

    The caller has already fetched `record_obj` in scope (404 otherwise); this refuses a role without `pii:read`.
    """
    if not principal.can("pii:read"):
        raise Forbidden("当前角色没有「pii:read」权限,不能查看完整个人信息")
    clear = {}
    for name in fields:
        stored = getattr(record_obj, f"{name}_enc")
        clear[name] = decrypt_field(stored) if stored else None
    record_reveal(session, principal, record_obj, fields)
    return clear
