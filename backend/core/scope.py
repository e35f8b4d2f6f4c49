"""The one place where records are narrowed to what a principal may see.

Every record that belongs to a branch carries that branch's id and the ids of
its ancestors at each depth (a1 = the root … a8). A subtree is then a single
equality on the column of the subtree root's depth, which an index on
(aN, created_at) answers as one ordered range.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, select

from backend.core.db import UTCDateTime, utcnow
from backend.core.errors import NotFound

MAX_DEPTH = 8
ANCESTOR_COLUMNS = tuple(f"a{i}" for i in range(1, MAX_DEPTH + 1))

T = TypeVar("T", bound=SQLModel)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person or a machine client, its role and the subtree it is scoped to."""

    kind: str  # "user" or "client"
    id: int
    name: str
    role: str
    branch_id: int
    branch_depth: int
    branch_path: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    jti: str = ""
    expires_at: datetime | None = None
    # As read with the account on each request, so a page about the caller needs no further query.
    login: str = ""
    branch_name: str = ""
    branch_kind: str = ""
    branch_code: str | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.id}"


class Ancestors(SQLModel):
    """The ids of a branch's ancestors at each depth (its own id at its own depth)."""

    a1: int | None = Field(default=None)
    a2: int | None = Field(default=None)
    a3: int | None = Field(default=None)
    a4: int | None = Field(default=None)
    a5: int | None = Field(default=None)
    a6: int | None = Field(default=None)
    a7: int | None = Field(default=None)
    a8: int | None = Field(default=None)


class BranchScoped(Ancestors):
    """Columns every branch-owned record carries. Use `place_in(branch)` to fill them."""

    branch_id: int = Field(foreign_key="branch.id", index=True)

    def place_in(self, branch: Any) -> None:
        self.branch_id = branch.id
        for name in ANCESTOR_COLUMNS:
            setattr(self, name, getattr(branch, name))


class SoftDelete(SQLModel):
    """A record that is hidden, not removed: `scoped` drops rows whose `deleted_at` is set."""

    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def soft_delete(self, now: datetime | None = None) -> None:
        self.deleted_at = now or utcnow()


class Timestamped(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def scope_indexes(
    table: str, sort_column: str = "created_at", *, soft_delete: bool = False
) -> tuple[sa.Index, ...]:
    """One (aN, sort) index per depth, so any subtree's newest-first page is one index range.

    `soft_delete`: the index also carries `deleted_at`, which every list filters on, so a list's count is
    answered from the index alone (a partial index would not serve moves, which touch deleted rows too).
    """
    extra = ("deleted_at",) if soft_delete else ()
    return tuple(sa.Index(f"ix_{table}_{a}_{sort_column}", a, sort_column, *extra) for a in ANCESTOR_COLUMNS)


def ancestor_values(branch: Any) -> dict[str, int | None]:
    return {name: getattr(branch, name) for name in ANCESTOR_COLUMNS}


def subtree_filter(model: Any, branch_id: int, depth: int):
    return getattr(model, f"a{depth}") == branch_id


def in_subtree(record: Any, branch: Any) -> bool:
    """Whether a placed record lies in `branch`'s subtree: `subtree_filter` for a record already loaded."""
    return getattr(record, f"a{branch.depth}", None) == branch.id


def scoped(stmt: Any, principal: Principal, model: Any = None) -> Any:
    """Narrow a select to the principal's subtree, drop soft-deleted rows and apply the model's own rules."""
    if model is None:
        model = stmt.column_descriptions[0]["entity"]
    condition = subtree_filter(model, principal.branch_id, principal.branch_depth)
    if getattr(model, "__include_unplaced__", False) and principal.branch_depth == 1:
        condition = sa.or_(condition, model.branch_id.is_(None))
    stmt = stmt.where(condition)
    if "deleted_at" in model.model_fields:
        stmt = stmt.where(model.deleted_at.is_(None))
    visibility = getattr(model, "__visibility__", None)
    if visibility is not None:
        stmt = visibility(stmt, principal)
    return stmt


_branch_model: list[Any] = []


def register_branch_model(model: Any) -> None:
    """The `branches` domain names its table here, so `within` can look a subtree root up without importing it."""
    _branch_model[:] = [model]


def within(session: Session, principal: Principal, stmt: Any, model: Any, under: int | None) -> Any:
    """The `under=` filter of a list: narrow to one branch's subtree, a branch the caller must be able to see."""
    if under is None:
        return stmt
    if not _branch_model:
        raise RuntimeError("no branch model registered: import backend.branches.models")
    root = get_scoped(session, _branch_model[0], under, principal)
    return stmt.where(subtree_filter(model, root.id, root.depth))


def get_scoped(
    session: Session, model: type[T], record_id: int, principal: Principal, *, for_update: bool = False
) -> T:
    """Fetch one record the principal may see; anything else is 404, so existence is never confirmed."""
    stmt = scoped(select(model).where(model.id == record_id), principal, model)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    record = session.exec(stmt).first()
    if record is None:
        raise NotFound(f"{getattr(model, '__label__', '记录')}不存在或无权查看")
    return record


def registered_scoped_tables() -> list[sa.Table]:
    """Tables whose rows carry ancestor columns (other than the branch table itself)."""
    tables = []
    for table in SQLModel.metadata.sorted_tables:
        cols = table.c
        if table.name != "branch" and all(name in cols for name in ANCESTOR_COLUMNS) and "branch_id" in cols:
            tables.append(table)
    return tables
