from typing import Annotated

from fastapi import Query

from backend.branches.models import Branch
from backend.core.clock import PeriodDep
from backend.core.deps import SessionDep, perm
from backend.core.scope import get_scoped
from backend.core.uow import Router
from backend.reports import service
from backend.reports.schemas import ReportOverview

router = Router(prefix="/reports", tags=["reports"])
ReportsRead = perm("reports:read")


@router.get("/overview", response_model=ReportOverview)
def overview(
    session: SessionDep,
    principal: ReportsRead,
    period: PeriodDep,
    under: Annotated[int | None, Query(description="只看某组织及其全部下级;默认本人所在组织")] = None,
):
    """Figures of one subtree for one period in one call: branches and 换届, and each installed domain's figures."""
    root = get_scoped(session, Branch, under if under is not None else principal.branch_id, principal)
    return service.overview(session, principal, root, period)
