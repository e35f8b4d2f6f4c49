from typing import Annotated

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import FileResponse

from backend.activities import photos as photo_store
from backend.activities import service
from backend.activities.models import ActivityStatus, ActivityType
from backend.activities.schemas import (
    ActivityCreate,
    ActivityList,
    ActivityPublic,
    ActivityStats,
    ActivityUpdate,
    InactiveBranchList,
    PhotoPublic,
    SignInCreate,
    SignInPublic,
)
from backend.branches.models import Branch, BranchKind
from backend.core.clock import BetweenDep, PeriodDep
from backend.core.deps import SessionDep, perm
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.scope import get_scoped
from backend.core.storage import media_store
from backend.core.uow import Router
from backend.core.workflow import action_routes

router = Router(prefix="/activities", tags=["activities"])
# Lives here because it is about activities; registered before the branches router so "/inactive" is not an id.
inactive_router = Router(prefix="/branches", tags=["branches"])

ActivitiesRead = perm("activities:read")
ActivitiesWrite = perm("activities:write")


@router.get("", response_model=ActivityList, responses=LIST_RESPONSES)
def list_activities(
    session: SessionDep,
    principal: ActivitiesRead,
    page: PageDep,
    period: BetweenDep,
    under: Annotated[int | None, Query(description="只看某组织及其全部下级")] = None,
    branch_id: Annotated[int | None, Query(description="只看某一组织主办的")] = None,
    type: Annotated[list[ActivityType] | None, Query(description="活动类型,可多选")] = None,
    status: Annotated[list[ActivityStatus] | None, Query(description="状态,可多选")] = None,
    missing_photos: Annotated[bool | None, Query(description="true:没有照片的")] = None,
    missing_sign_in: Annotated[bool | None, Query(description="true:没有签到的")] = None,
):
    return service.list_activities(
        session,
        principal,
        page,
        under=under,
        branch_id=branch_id,
        type=type,
        status=status,
        period=period,
        missing_photos=missing_photos,
        missing_sign_in=missing_sign_in,
    )


@router.get("/stats", response_model=ActivityStats)
def activity_stats(
    session: SessionDep,
    principal: ActivitiesRead,
    period: PeriodDep,
    under: Annotated[int | None, Query(description="统计哪个组织及其下级,默认本人所在组织")] = None,
):
    root = get_scoped(session, Branch, under or principal.branch_id, principal)
    return service.stats(session, principal, root, period)


@router.post("", response_model=ActivityPublic, status_code=201)
def create_activity(session: SessionDep, principal: ActivitiesWrite, body: ActivityCreate):
    return service.detail(session, principal, service.create_activity(session, principal, body))


@router.get("/{activity_id}", response_model=ActivityPublic)
def get_activity(session: SessionDep, principal: ActivitiesRead, activity_id: int):
    return service.detail(session, principal, service.get_activity(session, principal, activity_id))


@router.patch("/{activity_id}", response_model=ActivityPublic)
def update_activity(session: SessionDep, principal: ActivitiesWrite, activity_id: int, body: ActivityUpdate):
    activity = service.get_activity(session, principal, activity_id, for_update=True)
    return service.detail(session, principal, service.update_activity(session, principal, activity, body))


@router.delete("/{activity_id}", status_code=204)
def delete_activity(session: SessionDep, principal: ActivitiesWrite, activity_id: int):
    service.delete_activity(session, service.get_activity(session, principal, activity_id, for_update=True))


action_routes(
    router,
    service.WORKFLOW,
    id_name="activity_id",
    load=lambda session, principal, activity_id: service.get_activity(
        session, principal, activity_id, for_update=True
    ),
    act=service.act,
    present=service.detail,
    response_model=ActivityPublic,
    # The operation ids partners' clients were generated with: activities-hold_activity, activities-verify_activity.
    operation="{step}_activity",
)


@router.post("/{activity_id}/photos", response_model=PhotoPublic, status_code=201)
def upload_photo(
    session: SessionDep,
    principal: ActivitiesWrite,
    activity_id: int,
    file: Annotated[UploadFile, File(description="JPEG 或 PNG,不超过 10 MB")],
    caption: Annotated[str | None, Form(max_length=200)] = None,
):
    activity = service.get_activity(session, principal, activity_id, for_update=True)
    data = photo_store.read_limited(file.file)
    return service.photo_to_public(service.add_photo(session, principal, activity, data, caption))


@router.get("/{activity_id}/photos", response_model=list[PhotoPublic])
def list_photos(session: SessionDep, principal: ActivitiesRead, activity_id: int):
    activity = service.get_activity(session, principal, activity_id)
    return [service.photo_to_public(p) for p in service.list_photos(session, activity)]


@router.get(
    "/{activity_id}/photos/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def get_photo(session: SessionDep, principal: ActivitiesRead, activity_id: int, photo_id: int):
    activity = service.get_activity(session, principal, activity_id)
    key, media = service.photo_file(service.get_photo(session, activity, photo_id))
    return media_store().response(key, media, {"Cache-Control": "private, max-age=86400"})


@router.get(
    "/{activity_id}/photos/{photo_id}/thumbnail",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_photo_thumbnail(session: SessionDep, principal: ActivitiesRead, activity_id: int, photo_id: int):
    activity = service.get_activity(session, principal, activity_id)
    key, media = service.photo_file(service.get_photo(session, activity, photo_id), thumbnail=True)
    return media_store().response(key, media, {"Cache-Control": "private, max-age=86400"})


@router.delete("/{activity_id}/photos/{photo_id}", status_code=204)
def delete_photo(session: SessionDep, principal: ActivitiesWrite, activity_id: int, photo_id: int):
    activity = service.get_activity(session, principal, activity_id, for_update=True)
    service.delete_photo(session, activity, service.get_photo(session, activity, photo_id))


@router.post("/{activity_id}/sign-ins", response_model=SignInPublic, status_code=201)
def add_sign_in(session: SessionDep, principal: ActivitiesWrite, activity_id: int, body: SignInCreate):
    activity = service.get_activity(session, principal, activity_id, for_update=True)
    return service.sign_in_to_public(principal, service.add_sign_in(session, principal, activity, body))


@router.get("/{activity_id}/sign-ins", response_model=list[SignInPublic])
def list_sign_ins(session: SessionDep, principal: ActivitiesRead, activity_id: int):
    activity = service.get_activity(session, principal, activity_id)
    return [service.sign_in_to_public(principal, s) for s in service.list_sign_ins(session, activity)]


@inactive_router.get("/inactive", response_model=InactiveBranchList, responses=LIST_RESPONSES)
def list_inactive_branches(
    session: SessionDep,
    principal: ActivitiesRead,
    page: PageDep,
    days: Annotated[int, Query(ge=1, le=3650, description="多少天内没有开展活动")] = 90,
    under: Annotated[int | None, Query(description="只看某组织的下级")] = None,
    kind: Annotated[BranchKind | None, Query(description="village 或 community")] = None,
):
    """村、社区在最近 N 天内没有已开展(或已核验)的活动:有组织无活动的名单."""
    return service.list_inactive_branches(session, principal, page, days=days, under=under, kind=kind)
