"""Left-behind children API: the registry (`/children`), the carer's own children (`/children/mine`) and the
children's homes with their inspections and family calls (`/children-homes`)."""

from datetime import date
from typing import Annotated

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import Response

import backend.children.tasks  # noqa: F401  (registers the aged-out sweep)
from backend.branches.models import Branch
from backend.children import homes, imports, service
from backend.children.models import (
    Child,
    ChildCategory,
    ChildrenHome,
    ChildStatus,
    HomeCondition,
    HomeHost,
    HomeLevel,
)
from backend.children.schemas import (
    CallCreate,
    CallList,
    CallPublic,
    CarerChildList,
    CarerChildPublic,
    ChildCreate,
    ChildList,
    ChildPii,
    ChildPublic,
    ChildUpdate,
    HomeCreate,
    HomeList,
    HomePublic,
    HomeUpdate,
    InspectionCreate,
    InspectionList,
    InspectionPublic,
)
from backend.core.clock import BetweenDep
from backend.core.deps import SessionDep, perm
from backend.core.paging import LIST_RESPONSES, XLSX_FILE_RESPONSES, PageDep, xlsx_file
from backend.core.scope import Principal, get_scoped
from backend.core.uow import Router, writes
from backend.jobs import imports as sheets
from backend.jobs import service as jobs
from backend.jobs.schemas import JobPublic
from backend.jobs.service import to_public as job_public

ChildrenRead, ChildrenWrite, ChildrenVisit = (
    perm("children:read"),
    perm("children:write"),
    perm("children:visit"),
)
HomesRead, HomesWrite, HomesInspect = perm("homes:read"), perm("homes:write"), perm("homes:inspect")
Under = Annotated[int | None, Query(description="只看某组织及其全部下级")]

children_router = Router(prefix="/children", tags=["children"])
homes_router = Router(prefix="/children-homes", tags=["children-homes"])
routers = [children_router, homes_router]


def _branch_or_own(session, principal: Principal, branch_id: int | None) -> Branch:
    return get_scoped(session, Branch, branch_id if branch_id is not None else principal.branch_id, principal)


# ---- the registry


@children_router.get("", response_model=ChildList, responses=LIST_RESPONSES)
def list_children(
    session: SessionDep,
    principal: ChildrenRead,
    page: PageDep,
    under: Under = None,
    category: ChildCategory | None = None,
    status: ChildStatus | None = None,
    special_needs: Annotated[bool | None, Query(description="有残疾、重病或失学辍学(false:都没有)")] = None,
    school: Annotated[str | None, Query(max_length=100, description="学校名称包含")] = None,
    unpaired: Annotated[
        bool | None, Query(description="true:在册但没有进行中的结对;false:有进行中的结对")
    ] = None,
    born_from: Annotated[date | None, Query(description="出生日期不早于")] = None,
    born_to: Annotated[date | None, Query(description="出生日期不晚于")] = None,
):
    return service.list_children(
        session,
        principal,
        page,
        under=under,
        category=category,
        status=status,
        special_needs=special_needs,
        school=school,
        unpaired=unpaired,
        born_from=born_from,
        born_to=born_to,
    )


@children_router.post("", response_model=ChildPublic, status_code=201)
def register_child(session: SessionDep, principal: ChildrenWrite, body: ChildCreate):
    branch = _branch_or_own(session, principal, body.branch_id)
    return service.to_public(service.register_child(session, principal, body, branch))


@children_router.get("/mine", response_model=CarerChildList, responses=LIST_RESPONSES)
def list_my_children(session: SessionDep, principal: ChildrenVisit, page: PageDep):
    """A carer's paired children, the one due for a visit first: only what a visit needs."""
    return service.list_carer_children(session, principal, page)


@children_router.get("/mine/{child_id}", response_model=CarerChildPublic)
def get_my_child(session: SessionDep, principal: ChildrenVisit, child_id: int):
    return service.get_carer_child(session, principal, child_id)


@children_router.get("/import-template", response_class=Response, responses=XLSX_FILE_RESPONSES)
def children_import_template(principal: ChildrenWrite):
    """The village list of children to fill in and upload."""
    return xlsx_file(imports.template_bytes(), "留守儿童名册模板.xlsx")


@children_router.post("/imports", response_model=JobPublic, status_code=202)
def import_children(
    response: Response,
    session: SessionDep,
    principal: ChildrenWrite,
    file: Annotated[UploadFile, File(description="按模板填写的 .xlsx")],
    branch_id: Annotated[int | None, Form(description="未填组织代码的行登记到这里")] = None,
):
    """Upload a village's list; it is imported as a job (poll `GET /jobs/{id}`)."""
    data = file.file.read(sheets.MAX_UPLOAD_BYTES + 1)
    sheets.check_upload(data, file.filename)
    imports.check_header(data)
    options = {}
    if branch_id is not None:
        options["branch_id"] = get_scoped(session, Branch, branch_id, principal).id
    job = jobs.create_job(
        session, principal, imports.CHILDREN_JOB, filename=file.filename, payload=data, options=options
    )
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job_public(job)


@children_router.get("/{child_id}", response_model=ChildPublic)
def get_child(session: SessionDep, principal: ChildrenRead, child_id: int):
    return service.to_public(get_scoped(session, Child, child_id, principal))


@children_router.get("/{child_id}/pii", response_model=ChildPii)
@writes
def reveal_child(session: SessionDep, principal: ChildrenRead, child_id: int):
    """Her ID number and the phones in clear (needs `pii:read` too); every call is written to the audit trail."""
    return service.reveal_child(session, principal, get_scoped(session, Child, child_id, principal))


@children_router.patch("/{child_id}", response_model=ChildPublic)
def update_child(session: SessionDep, principal: ChildrenWrite, child_id: int, body: ChildUpdate):
    child = get_scoped(session, Child, child_id, principal)
    return service.to_public(service.update_child(session, principal, child, body))


@children_router.delete("/{child_id}", status_code=204)
def delete_child(session: SessionDep, principal: ChildrenWrite, child_id: int):
    service.soft_delete_child(session, get_scoped(session, Child, child_id, principal))


# ---- homes


@homes_router.get("", response_model=HomeList, responses=LIST_RESPONSES)
def list_homes(
    session: SessionDep,
    principal: HomesRead,
    page: PageDep,
    under: Under = None,
    condition: HomeCondition | None = None,
    needs_attention: Annotated[bool | None, Query(description="true:已损坏或需维修")] = None,
    level: HomeLevel | None = None,
    host: HomeHost | None = None,
):
    """Broken homes first, then those needing repair (sort `attention`), unless another sort is asked for."""
    return homes.list_homes(
        session,
        principal,
        page,
        under=under,
        condition=condition,
        needs_attention=needs_attention,
        level=level,
        host=host,
    )


@homes_router.post("", response_model=HomePublic, status_code=201)
def create_home(session: SessionDep, principal: HomesWrite, body: HomeCreate):
    branch = _branch_or_own(session, principal, body.branch_id)
    home = homes.create_home(session, principal, body, branch)
    return homes.get_home(session, principal, home.id)


@homes_router.get("/{home_id}", response_model=HomePublic)
def get_home(session: SessionDep, principal: HomesRead, home_id: int):
    return homes.get_home(session, principal, home_id)


@homes_router.patch("/{home_id}", response_model=HomePublic)
def update_home(session: SessionDep, principal: HomesWrite, home_id: int, body: HomeUpdate):
    home = homes.update_home(session, principal, get_scoped(session, ChildrenHome, home_id, principal), body)
    return homes.get_home(session, principal, home.id)


@homes_router.delete("/{home_id}", status_code=204)
def delete_home(session: SessionDep, principal: HomesWrite, home_id: int):
    homes.delete_home(session, get_scoped(session, ChildrenHome, home_id, principal))


@homes_router.get("/{home_id}/inspections", response_model=InspectionList, responses=LIST_RESPONSES)
def list_inspections(session: SessionDep, principal: HomesRead, page: PageDep, home_id: int):
    home = get_scoped(session, ChildrenHome, home_id, principal)
    return homes.list_inspections(session, principal, page, home)


@homes_router.post("/{home_id}/inspections", response_model=InspectionPublic, status_code=201)
def inspect_home(session: SessionDep, principal: HomesInspect, home_id: int, body: InspectionCreate):
    """An inspection (督查); the latest one sets the home's condition and last inspection date."""
    home = get_scoped(session, ChildrenHome, home_id, principal, for_update=True)
    return homes.inspection_to_public(homes.inspect_home(session, principal, home, body))


@homes_router.get("/{home_id}/calls", response_model=CallList, responses=LIST_RESPONSES)
def list_calls(
    session: SessionDep,
    principal: HomesRead,
    page: PageDep,
    period: BetweenDep,
    home_id: int,
):
    home = get_scoped(session, ChildrenHome, home_id, principal)
    return homes.list_calls(session, principal, page, home, period=period)


@homes_router.post("/{home_id}/calls", response_model=CallPublic, status_code=201)
def record_call(session: SessionDep, principal: HomesWrite, home_id: int, body: CallCreate):
    """A family call or video (亲情电话, 视频) held at the home."""
    home = get_scoped(session, ChildrenHome, home_id, principal)
    call, child_name = homes.record_call(session, principal, home, body)
    return homes.call_to_public((call, child_name))
