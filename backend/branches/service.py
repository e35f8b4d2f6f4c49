"""The org tree: create, edit, move a subtree, soft delete. No HTTP here."""

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.branches.models import Branch, BranchKind
from backend.branches.schemas import TERM_WARNING_DAYS, BranchCreate, BranchPublic, BranchUpdate, TermStatus
from backend.core import audit
from backend.core.clock import today_in_china
from backend.core.db import utcnow
from backend.core.errors import Conflict, Forbidden, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.scope import (
    ANCESTOR_COLUMNS,
    MAX_DEPTH,
    Principal,
    get_scoped,
    registered_scoped_tables,
    scoped,
    subtree_filter,
    within,
)

# Tables whose rows are history, not "records in the branch" that would block deleting it.
_HISTORY_TABLES = {"audit_log"}

COLUMNS = [
    Column("code", "组织代码"),
    Column("name", "名称"),
    Column("kind", "类型", "branch_kind"),
    Column("depth", "层级"),
    Column("chair_name", "主席"),
    Column("chair_phone", "主席电话"),
    Column("term_started_on", "本届开始"),
    Column("term_due_on", "换届到期"),
    Column("term_status", "换届状态", "term_status"),
    Column("womens_home.venue", "妇女之家场所"),
    Column("womens_home.six_have_count", "六有达标项"),
]
SORTABLE = {
    "code": Branch.code,
    "name": Branch.name,
    "created_at": Branch.created_at,
    "term_due_on": Branch.term_due_on,
    "depth": Branch.depth,
    "id": Branch.id,
}


def to_public(node: Branch) -> BranchPublic:
    return BranchPublic.model_validate(node)


def _respond(
    session: Session,
    page: ListParams,
    stmt,
    *,
    kind: list[BranchKind] | None = None,
    depth: int | None = None,
    term_status: TermStatus | None = None,
    term_due_within: int | None = None,
    has_womens_home: bool | None = None,
) -> Any:
    if kind:
        stmt = stmt.where(Branch.kind.in_([k.value for k in kind]))
    if depth is not None:
        stmt = stmt.where(Branch.depth == depth)
    if has_womens_home is not None:
        stmt = stmt.where(
            Branch.womens_home.is_not(None) if has_womens_home else Branch.womens_home.is_(None)
        )
    stmt = term_filter(stmt, term_status, term_due_within)
    return page.respond(
        session,
        stmt,
        to_public,
        sortable=SORTABLE,
        default_sort="code",
        search=[Branch.name, Branch.code, Branch.chair_name],
        columns=COLUMNS,
        filename="branches",
    )


def list_branches(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    kind: list[BranchKind] | None = None,
    parent_id: int | None = None,
    under: int | None = None,
    depth: int | None = None,
    term_status: TermStatus | None = None,
    term_due_within: int | None = None,
    has_womens_home: bool | None = None,
) -> Any:
    stmt = scoped(select(Branch), principal)
    if parent_id is not None:
        stmt = stmt.where(Branch.parent_id == parent_id)
    stmt = within(session, principal, stmt, Branch, under)
    return _respond(
        session,
        page,
        stmt,
        kind=kind,
        depth=depth,
        term_status=term_status,
        term_due_within=term_due_within,
        has_womens_home=has_womens_home,
    )


def list_children(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    parent: Branch,
    kind: list[BranchKind] | None = None,
    term_status: TermStatus | None = None,
) -> Any:
    stmt = scoped(select(Branch), principal).where(Branch.parent_id == parent.id)
    return _respond(session, page, stmt, kind=kind, term_status=term_status)


def list_subtree(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    root: Branch,
    kind: list[BranchKind] | None = None,
    term_status: TermStatus | None = None,
    term_due_within: int | None = None,
) -> Any:
    """The branch and every branch below it."""
    stmt = scoped(select(Branch), principal).where(subtree_filter(Branch, root.id, root.depth))
    return _respond(session, page, stmt, kind=kind, term_status=term_status, term_due_within=term_due_within)


def place_under(node: Branch, parent: Branch | None) -> None:
    """Fill depth and ancestor columns; the path and own column follow on insert (see models)."""
    if parent is None:
        node.depth = 1
        for name in ANCESTOR_COLUMNS:
            setattr(node, name, None)
        node.parent_id = None
        return
    if parent.depth >= MAX_DEPTH:
        raise ValidationFailed("parent_id", f"组织层级最多 {MAX_DEPTH} 级")
    node.parent_id = parent.id
    node.depth = parent.depth + 1
    for i, name in enumerate(ANCESTOR_COLUMNS, start=1):
        setattr(node, name, getattr(parent, name) if i < node.depth else None)


def _check_code_free(session: Session, code: str | None, exclude_id: int | None = None) -> None:
    if not code:
        return
    stmt = select(Branch.id).where(Branch.code == code)
    if exclude_id is not None:
        stmt = stmt.where(Branch.id != exclude_id)
    if session.exec(stmt).first() is not None:
        raise Conflict(
            f"组织代码「{code}」已被使用",
            errors=[{"field": "code", "loc": ["code"], "message": "组织代码已被使用"}],
        )


def create_branch(session: Session, principal: Principal, data: BranchCreate) -> Branch:
    parent = get_scoped(session, Branch, data.parent_id, principal)
    _check_code_free(session, data.code)
    node = Branch(**data.model_dump(exclude={"parent_id", "womens_home"}))
    node.womens_home = data.womens_home.model_dump(mode="json") if data.womens_home else None
    place_under(node, parent)
    session.add(node)
    session.flush()
    return node


def update_branch(session: Session, node: Branch, data: BranchUpdate) -> Branch:
    changes = data.model_dump(exclude_unset=True)
    if "code" in changes:
        _check_code_free(session, changes["code"], exclude_id=node.id)
    for required in ("name", "kind"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(required, "此项不能为空")
    if "womens_home" in changes:
        changes["womens_home"] = data.womens_home.model_dump(mode="json") if data.womens_home else None
    for key, value in changes.items():
        setattr(node, key, value)
    if node.term_started_on and node.term_due_on and node.term_due_on <= node.term_started_on:
        raise ValidationFailed("term_due_on", "换届到期日应晚于本届开始日期")
    node.updated_at = utcnow()
    session.flush()
    return node


def move_subtree(session: Session, principal: Principal, node: Branch, new_parent: Branch) -> Branch:
    """Re-hang a subtree and rewrite the ancestor columns of its branches and of every row they own, atomically."""
    if node.id == principal.branch_id:
        raise Forbidden("不能移动自己所在的组织")
    if new_parent.path.startswith(node.path):
        raise ValidationFailed("parent_id", "不能把组织移到它自己或它的下级之下")
    if node.parent_id == new_parent.id:
        return node
    old_depth, new_depth = node.depth, new_parent.depth + 1
    delta = new_depth - old_depth
    node_col = f"a{old_depth}"
    branch_t = Branch.__table__
    deepest = session.execute(
        sa.select(sa.func.max(branch_t.c.depth)).where(branch_t.c[node_col] == node.id)
    ).scalar_one()
    if deepest + delta > MAX_DEPTH:
        raise ValidationFailed("parent_id", f"移动后组织层级将超过 {MAX_DEPTH} 级")
    old_path, new_path = node.path, f"{new_parent.path}{node.id}/"
    old_parent_id = node.parent_id

    def rewritten_ancestors(table: sa.Table) -> dict:
        values = {}
        for k in range(1, MAX_DEPTH + 1):
            if k <= new_parent.depth:
                values[f"a{k}"] = getattr(new_parent, f"a{k}")
            else:
                src = k - delta
                values[f"a{k}"] = table.c[f"a{src}"] if old_depth <= src <= MAX_DEPTH else None
        return values

    session.flush()
    for table in [branch_t, *registered_scoped_tables()]:
        values = rewritten_ancestors(table)
        if table is branch_t:
            values["depth"] = table.c.depth + delta
            values["path"] = sa.literal(new_path) + sa.func.substr(table.c.path, len(old_path) + 1)
        session.execute(sa.update(table).where(table.c[node_col] == node.id).values(**values))
    session.execute(
        sa.update(branch_t)
        .where(branch_t.c.id == node.id)
        .values(parent_id=new_parent.id, updated_at=utcnow())
    )
    audit.record(
        session,
        "move",
        principal=principal,
        entity="branch",
        entity_id=node.id,
        placed_in=new_parent,
        after={"from_parent_id": old_parent_id, "to_parent_id": new_parent.id, "path": new_path},
    )
    session.expire_all()
    return session.get(Branch, node.id)


def delete_branch(session: Session, principal: Principal, node: Branch) -> None:
    if node.id == principal.branch_id:
        raise Forbidden("不能删除自己所在的组织")
    child = session.exec(
        select(Branch.id).where(Branch.parent_id == node.id, Branch.deleted_at.is_(None))
    ).first()
    if child is not None:
        raise Conflict("该组织还有下级组织,不能删除")
    for table in registered_scoped_tables():
        if table.name in _HISTORY_TABLES:
            continue
        stmt = sa.select(table.c.branch_id).where(table.c.branch_id == node.id)
        if "deleted_at" in table.c:
            stmt = stmt.where(table.c.deleted_at.is_(None))
        if session.execute(stmt.limit(1)).first() is not None:
            raise Conflict(f"该组织下还有记录({table.name}),不能删除", blocking=table.name)
    node.soft_delete()
    session.flush()


def term_filter(stmt, status: TermStatus | None, due_within_days: int | None, today: date | None = None):
    today = today or today_in_china()
    if status == TermStatus.overdue:
        stmt = stmt.where(Branch.term_due_on < today)
    elif status == TermStatus.due_soon:
        stmt = stmt.where(
            Branch.term_due_on >= today, Branch.term_due_on <= today + timedelta(days=TERM_WARNING_DAYS)
        )
    elif status == TermStatus.ok:
        stmt = stmt.where(Branch.term_due_on > today + timedelta(days=TERM_WARNING_DAYS))
    elif status == TermStatus.unknown:
        stmt = stmt.where(Branch.term_due_on.is_(None))
    if due_within_days is not None:
        stmt = stmt.where(Branch.term_due_on <= today + timedelta(days=due_within_days))
    return stmt
