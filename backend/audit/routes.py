from typing import Annotated

from fastapi import Query

from backend.audit import service
from backend.audit.schemas import AuditList
from backend.core.clock import BetweenDep
from backend.core.deps import AuditRead, SessionDep
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.uow import Router

router = Router(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditList, responses=LIST_RESPONSES)
def list_audit(
    session: SessionDep,
    principal: AuditRead,
    page: PageDep,
    period: BetweenDep,
    action: Annotated[list[str] | None, Query()] = None,
    actor: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    under: Annotated[int | None, Query(description="只看某组织及其下级")] = None,
):
    """The append-only audit trail of the caller's subtree, newest first."""
    return service.list_audit(
        session,
        principal,
        page,
        action=action,
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        period=period,
        under=under,
    )
