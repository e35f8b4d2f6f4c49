from typing import Annotated

from fastapi import Query

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
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.scope import get_scoped
from backend.core.uow import Router

router = Router(prefix="/branches", tags=["branches"])

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
    return service.list_branches(
        session,
        principal,
        page,
        kind=kind,
        parent_id=parent_id,
        under=under,
        depth=depth,
        term_status=term_status,
        term_due_within=term_due_within,
        has_womens_home=has_womens_home,
    )


@router.post("", response_model=BranchPublic, status_code=201)
def create_branch(session: SessionDep, principal: BranchesWrite, body: BranchCreate):
    return service.to_public(service.create_branch(session, principal, body))


@router.get("/{branch_id}", response_model=BranchPublic)
def get_branch(session: SessionDep, principal: BranchesRead, branch_id: int):
    return service.to_public(get_scoped(session, Branch, branch_id, principal))


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
    return service.list_children(session, principal, page, parent=node, kind=kind, term_status=term_status)


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
    return service.list_subtree(
        session,
        principal,
        page,
        root=node,
        kind=kind,
        term_status=term_status,
        term_due_within=term_due_within,
    )


@router.patch("/{branch_id}", response_model=BranchPublic)
def update_branch(session: SessionDep, principal: BranchesWrite, branch_id: int, body: BranchUpdate):
    node = get_scoped(session, Branch, branch_id, principal)
    return service.to_public(service.update_branch(session, node, body))


@router.post("/{branch_id}/actions/move", response_model=BranchPublic)
def move_branch(session: SessionDep, principal: BranchesWrite, branch_id: int, body: BranchMove):
    node = get_scoped(session, Branch, branch_id, principal)
    new_parent = get_scoped(session, Branch, body.parent_id, principal)
    return service.to_public(service.move_subtree(session, principal, node, new_parent))


@router.delete("/{branch_id}", status_code=204)
def delete_branch(session: SessionDep, principal: BranchesWrite, branch_id: int):
    node = get_scoped(session, Branch, branch_id, principal)
    service.delete_branch(session, principal, node)
