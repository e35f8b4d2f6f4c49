from datetime import date
from typing import Annotated

from fastapi import Query

from backend.branches.models import Branch
from backend.core.deps import SessionDep, perm
from backend.core.errors import ValidationFailed
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
    under: Annotated[int | None, Query(description="只看某组织及其全部下级;默认本人所在组织")] = None,
    since: Annotated[date | None, Query(description="统计期开始(含),默认本年 1 月 1 日")] = None,
    until: Annotated[date | None, Query(description="统计期结束(含),默认今天")] = None,
):
    """Figures of one subtree for one period in one call: branches and 换届, and each installed domain's figures."""
    root = get_scoped(session, Branch, under if under is not None else principal.branch_id, principal)
    period = service.default_period(since, until)
    if period.since > period.until:
        raise ValidationFailed("since", "开始日期不能晚于结束日期")
    return service.overview(session, principal, root, period)
