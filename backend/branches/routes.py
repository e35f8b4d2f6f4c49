from typing import Annotated

from fastapi import Query
from sqlmodel import select

from backend.branches import service
from backend.branches.models import Branch, BranchKind
from backend.branches.schemas import (
    BranchCreate,
    BranchList,
    BranchMove,
    BranchPublic,
    BranchUpdate,
    TermStatus,
)
from backend.core.deps import BranchesRead, BranchesWrite, SessionDep
from backend.core.paging import LIST_RESPONSES, Column, PageDep
from backend.core.scope import get_scoped, scoped, within
from backend.core.uow import Router

router = Router(prefix="/branches", tags=["branches"])

BRANCH_COLUMNS = [
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


def _list(session, principal, page: PageDep, stmt, filename: str, **filters):
    kind: list[BranchKind] | None = filters.get("kind")
    if kind:
        stmt = stmt.where(Branch.kind.in_([k.value for k in kind]))
    if filters.get("depth") is not None:
        stmt = stmt.where(Branch.depth == filters["depth"])
    if filters.get("has_womens_home") is not None:
        stmt = stmt.where(
            Branch.womens_home.is_not(None) if filters["has_womens_home"] else Branch.womens_home.is_(None)
        )
    stmt = service.term_filter(stmt, filters.get("term_status"), filters.get("term_due_within"))
    return page.respond(
        session,
        stmt,
        BranchPublic,
        sortable=SORTABLE,
        default_sort="code",
        search=[Branch.name, Branch.code, Branch.chair_name],
        columns=BRANCH_COLUMNS,
        filename=filename,
    )


KindFilter = Annotated[list[BranchKind] | None, Query(description="组织类型,可多选")]
TermFilter = Annotated[TermStatus | None, Query(description="换届状态:overdue 已逾期,due_soon 90 天内到期")]
DueWithin = Annotated[int | None, Query(ge=0, le=3650, description="换届在 N 天内到期(含已逾期)")]


@router.get("", response_model=BranchList, responses=LIST_RESPONSES)
def list_branches(
    session: SessionDep,
    principal: BranchesRead,
    page: PageDep,
    kind: KindFilter = None,
    parent_id: int | None = None,
    under: Annotated[int | None, Query(description="只看某组织及其全部下级")] = None,
    depth: Annotated[int | None, Query(ge=1, le=8)] = None,
    term_status: TermFilter = None,
    term_due_within: DueWithin = None,
    has_womens_home: bool | None = None,
):
    stmt = scoped(select(Branch), principal)
    if parent_id is not None:
        stmt = stmt.where(Branch.parent_id == parent_id)
    stmt = within(session, principal, stmt, Branch, under)
    return _list(
        session,
        principal,
        page,
        stmt,
        "branches",
        kind=kind,
        depth=depth,
        term_status=term_status,
        term_due_within=term_due_within,
        has_womens_home=has_womens_home,
    )


@router.post("", response_model=BranchPublic, status_code=201)
def create_branch(session: SessionDep, principal: BranchesWrite, body: BranchCreate):
    return service.create_branch(session, principal, body)


@router.get("/{branch_id}", response_model=BranchPublic)
def get_branch(session: SessionDep, principal: BranchesRead, branch_id: int):
    return get_scoped(session, Branch, branch_id, principal)


@router.get("/{branch_id}/children", response_model=BranchList, responses=LIST_RESPONSES)
def list_children(
    session: SessionDep,
    principal: BranchesRead,
    page: PageDep,
    branch_id: int,
    kind: KindFilter = None,
    term_status: TermFilter = None,
):
    node = get_scoped(session, Branch, branch_id, principal)
    stmt = scoped(select(Branch), principal).where(Branch.parent_id == node.id)
    return _list(session, principal, page, stmt, "branches", kind=kind, term_status=term_status)


@router.get("/{branch_id}/subtree", response_model=BranchList, responses=LIST_RESPONSES)
def list_subtree(
    session: SessionDep,
    principal: BranchesRead,
    page: PageDep,
    branch_id: int,
    kind: KindFilter = None,
    term_status: TermFilter = None,
    term_due_within: DueWithin = None,
):
    """The branch and every branch below it."""
    node = get_scoped(session, Branch, branch_id, principal)
    stmt = scoped(select(Branch), principal).where(getattr(Branch, f"a{node.depth}") == node.id)
    return _list(
        session,
        principal,
        page,
        stmt,
        "branches",
        kind=kind,
        term_status=term_status,
        term_due_within=term_due_within,
    )


@router.patch("/{branch_id}", response_model=BranchPublic)
def update_branch(session: SessionDep, principal: BranchesWrite, branch_id: int, body: BranchUpdate):
    node = get_scoped(session, Branch, branch_id, principal)
    return service.update_branch(session, node, body)


@router.post("/{branch_id}/actions/move", response_model=BranchPublic)
def move_branch(session: SessionDep, principal: BranchesWrite, branch_id: int, body: BranchMove):
    node = get_scoped(session, Branch, branch_id, principal)
    new_parent = get_scoped(session, Branch, body.parent_id, principal)
    return service.move_subtree(session, principal, node, new_parent)


@router.delete("/{branch_id}", status_code=204)
def delete_branch(session: SessionDep, principal: BranchesWrite, branch_id: int):
    node = get_scoped(session, Branch, branch_id, principal)
    service.soft_delete(session, principal, node)
