"""结对帮扶 API: pairings and their steps (`/pairings`), visits and visit photos, and the children's figures
(`/children/stats`, on a router of its own so it is matched before `/children/{child_id}`)."""

from typing import Annotated

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import FileResponse

from backend.activities import photos as photo_store
from backend.branches.models import Branch
from backend.children import figures, pairings
from backend.children.models import PairingStatus
from backend.children.pairing_schemas import (
    ChildrenStats,
    PairingCreate,
    PairingDetail,
    PairingList,
    VisitCreate,
    VisitList,
    VisitPhotoPublic,
    VisitPublic,
)
from backend.core.clock import PeriodDep
from backend.core.deps import SessionDep, perm
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.scope import get_scoped
from backend.core.storage import media_store
from backend.core.uow import Router
from backend.core.workflow import action_routes

PairingsRead, PairingsWrite, PairingsVisit = (
    perm("pairings:read"),
    perm("pairings:write"),
    perm("pairings:visit"),
)
ChildrenRead = perm("children:read")

router = Router(prefix="/pairings", tags=["pairings"])
stats_router = Router(prefix="/children", tags=["children"])
routers = [stats_router, router]

PHOTO_CACHE = {"Cache-Control": "private, max-age=86400"}


@stats_router.get("/stats", response_model=ChildrenStats)
def children_stats(
    session: SessionDep,
    principal: ChildrenRead,
    period: PeriodDep,
    under: Annotated[int | None, Query(description="统计哪个组织及其下级,默认本人所在组织")] = None,
):
    """Figures from rows; see each field's description for exactly what is counted."""
    root = get_scoped(session, Branch, under or principal.branch_id, principal)
    return figures.children_stats(session, root, period)


@router.get("", response_model=PairingList, responses=LIST_RESPONSES)
def list_pairings(
    session: SessionDep,
    principal: PairingsRead,
    page: PageDep,
    under: Annotated[int | None, Query(description="只看某组织及其全部下级")] = None,
    status: PairingStatus | None = None,
    carer_user_id: Annotated[int | None, Query(description="爱心妈妈账号")] = None,
    volunteer_id: int | None = None,
    member_id: int | None = None,
    child_id: int | None = None,
    overdue: Annotated[bool | None, Query(description="true:进行中且逾期未走访")] = None,
):
    """Overdue pairings first, then by the next visit's due date (sort `overdue,due`)."""
    return pairings.list_pairings(
        session,
        principal,
        page,
        under=under,
        status=status,
        carer_user_id=carer_user_id,
        volunteer_id=volunteer_id,
        member_id=member_id,
        child_id=child_id,
        overdue=overdue,
    )


@router.post("", response_model=PairingDetail, status_code=201)
def propose_pairing(session: SessionDep, principal: PairingsWrite, body: PairingCreate):
    """A proposed pairing, with the parents' or guardian's consent; `activate` starts it."""
    return pairings.detail(session, principal, pairings.propose_pairing(session, principal, body))


@router.get("/{pairing_id}", response_model=PairingDetail)
def get_pairing(session: SessionDep, principal: PairingsRead, pairing_id: int):
    return pairings.detail(session, principal, pairings.get_pairing(session, principal, pairing_id))


action_routes(
    router,
    pairings.WORKFLOW,
    id_name="pairing_id",
    load=lambda session, principal, pairing_id: pairings.get_pairing(
        session, principal, pairing_id, for_update=True
    ),
    act=pairings.perform,
    present=pairings.detail,
    response_model=PairingDetail,
)


@router.get("/{pairing_id}/visits", response_model=VisitList, responses=LIST_RESPONSES)
def list_visits(session: SessionDep, principal: PairingsVisit, page: PageDep, pairing_id: int):
    return pairings.list_visits(
        session, principal, page, pairings.get_pairing(session, principal, pairing_id)
    )


@router.post("/{pairing_id}/visits", response_model=VisitPublic, status_code=201)
def record_visit(session: SessionDep, principal: PairingsVisit, pairing_id: int, body: VisitCreate):
    """A visit restarts the schedule; a rights issue opens a 12338 ticket linked to the child (`ticket_id`)."""
    pairing = pairings.get_pairing(session, principal, pairing_id, for_update=True)
    return pairings.visit_to_public(pairings.record_visit(session, principal, pairing, body))


@router.post("/{pairing_id}/visits/{visit_id}/photos", response_model=VisitPhotoPublic, status_code=201)
def upload_visit_photo(
    session: SessionDep,
    principal: PairingsVisit,
    pairing_id: int,
    visit_id: int,
    file: Annotated[UploadFile, File(description="JPEG 或 PNG,不超过 10 MB")],
    caption: Annotated[str | None, Form(max_length=200)] = None,
):
    pairing = pairings.get_pairing(session, principal, pairing_id)
    visit = pairings.get_visit(session, principal, pairing, visit_id, for_update=True)
    data = photo_store.read_limited(file.file)
    return pairings.photo_to_public(pairings.add_photo(session, principal, visit, data, caption), pairing.id)


@router.get("/{pairing_id}/visits/{visit_id}/photos", response_model=list[VisitPhotoPublic])
def list_visit_photos(session: SessionDep, principal: PairingsVisit, pairing_id: int, visit_id: int):
    pairing = pairings.get_pairing(session, principal, pairing_id)
    visit = pairings.get_visit(session, principal, pairing, visit_id)
    return [pairings.photo_to_public(p, pairing.id) for p in pairings.list_photos(session, visit)]


@router.get(
    "/{pairing_id}/visits/{visit_id}/photos/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def get_visit_photo(
    session: SessionDep, principal: PairingsVisit, pairing_id: int, visit_id: int, photo_id: int
):
    """Only to the child's branch and the branches above it (and her carer)."""
    pairing = pairings.get_pairing(session, principal, pairing_id)
    visit = pairings.get_visit(session, principal, pairing, visit_id)
    key, media = pairings.photo_file(pairings.get_photo(session, visit, photo_id))
    return media_store().response(key, media, PHOTO_CACHE)


@router.get(
    "/{pairing_id}/visits/{visit_id}/photos/{photo_id}/thumbnail",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_visit_photo_thumbnail(
    session: SessionDep, principal: PairingsVisit, pairing_id: int, visit_id: int, photo_id: int
):
    pairing = pairings.get_pairing(session, principal, pairing_id)
    visit = pairings.get_visit(session, principal, pairing, visit_id)
    key, media = pairings.photo_file(pairings.get_photo(session, visit, photo_id), thumbnail=True)
    return media_store().response(key, media, PHOTO_CACHE)
