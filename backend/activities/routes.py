from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from sqlmodel import select

from backend.activities import photos as photo_store
from backend.activities import service
from backend.activities.models import Activity, ActivityStatus, ActivityType
from backend.activities.schemas import (
    ActivityCreate,
    ActivityList,
    ActivityPublic,
    ActivityStats,
    ActivityUpdate,
    HoldAction,
    InactiveBranchList,
    PhotoPublic,
    SignInCreate,
    SignInPublic,
    VerifyAction,
)
from backend.branches.models import Branch, BranchKind
from backend.core.deps import SessionDep, perm
from backend.core.paging import CHINA_TZ, LIST_RESPONSES, Column, PageDep
from backend.core.scope import get_scoped, scoped, within
from backend.core.storage import media_store
from backend.core.uow import Router

router = Router(prefix="/activities", tags=["activities"])
# Lives here because it is about activities; registered before the branches router so "/inactive" is not an id.
inactive_router = Router(prefix="/branches", tags=["branches"])

ActivitiesRead = perm("activities:read")
ActivitiesWrite = perm("activities:write")
ActivitiesVerify = perm("activities:verify")

COLUMNS = [
    Column("branch_name", "主办组织"),
    Column("type", "活动类型", "activity_type"),
    Column("title", "活动名称"),
    Column("theme", "主题"),
    Column("venue", "地点"),
    Column("starts_at", "开始时间"),
    Column("ends_at", "结束时间"),
    Column("status", "状态", "activity_status"),
    Column("co_organisers", "协办单位"),
    Column("participants", "参与人次"),
    Column("households", "覆盖户数"),
    Column("signed_in", "签到人数"),
    Column("photo_count", "照片数"),
    Column("target_group", "服务对象"),
    Column("funds", "经费(元)"),
    Column("funds_source", "经费来源"),
    Column("outcome", "活动成效"),
    Column("verified_by_name", "核验人"),
]
SORTABLE = {
    "starts_at": Activity.starts_at,
    "created_at": Activity.created_at,
    "title": Activity.title,
    "participants": Activity.participants,
    "id": Activity.id,
}


@router.get("", response_model=ActivityList, responses=LIST_RESPONSES)
def list_activities(
    session: SessionDep,
    principal: ActivitiesRead,
    page: PageDep,
    under: Annotated[int | None, Query(description="只看某组织及其全部下级")] = None,
    branch_id: Annotated[int | None, Query(description="只看某一组织主办的")] = None,
    type: Annotated[list[ActivityType] | None, Query(description="活动类型,可多选")] = None,
    status: Annotated[list[ActivityStatus] | None, Query(description="状态,可多选")] = None,
    starts_from: Annotated[datetime | date | None, Query(description="开始时间不早于")] = None,
    starts_to: Annotated[datetime | date | None, Query(description="开始时间早于(日期则含当天)")] = None,
    missing_photos: Annotated[bool | None, Query(description="true:没有照片的")] = None,
    missing_sign_in: Annotated[bool | None, Query(description="true:没有签到的")] = None,
):
    stmt = within(session, principal, scoped(select(Activity), principal), Activity, under)
    if branch_id is not None:
        stmt = stmt.where(Activity.branch_id == branch_id)
    if type:
        stmt = stmt.where(Activity.type.in_([t.value for t in type]))
    if status:
        stmt = stmt.where(Activity.status.in_([s.value for s in status]))
    if starts_from is not None:
        stmt = stmt.where(Activity.starts_at >= _instant(starts_from))
    if starts_to is not None:
        stmt = stmt.where(Activity.starts_at < _instant(starts_to, end=True))
    if missing_photos is not None:
        stmt = stmt.where(Activity.photo_count == 0 if missing_photos else Activity.photo_count > 0)
    if missing_sign_in is not None:
        stmt = stmt.where(Activity.signed_in == 0 if missing_sign_in else Activity.signed_in > 0)
    return page.respond(
        session,
        service.list_statement(stmt),
        service.row_to_public,
        sortable=SORTABLE,
        default_sort="-starts_at",
        search=[Activity.title, Activity.theme, Activity.venue],
        columns=COLUMNS,
        filename="activities",
        scalars=False,
    )


def _instant(value: datetime | date, end: bool = False) -> datetime:
    """A date means a China-time day; a datetime without offset is China time too."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ).astimezone(UTC)
    return service.china_day_start(value + timedelta(days=1) if end else value)


@router.get("/stats", response_model=ActivityStats)
def activity_stats(
    session: SessionDep,
    principal: ActivitiesRead,
    under: Annotated[int | None, Query(description="统计哪个组织及其下级,默认本人所在组织")] = None,
    date_from: Annotated[date | None, Query(description="默认今年 1 月 1 日")] = None,
    date_to: Annotated[date | None, Query(description="默认今天")] = None,
):
    root = get_scoped(session, Branch, under or principal.branch_id, principal)
    date_from, date_to = service.resolve_period(date_from, date_to)
    return service.stats(session, principal, root, date_from, date_to)


@router.post("", response_model=ActivityPublic, status_code=201)
def create_activity(session: SessionDep, principal: ActivitiesWrite, body: ActivityCreate):
    return service.detail(session, service.create_activity(session, principal, body))


@router.get("/{activity_id}", response_model=ActivityPublic)
def get_activity(session: SessionDep, principal: ActivitiesRead, activity_id: int):
    return service.detail(session, get_scoped(session, Activity, activity_id, principal))


@router.patch("/{activity_id}", response_model=ActivityPublic)
def update_activity(session: SessionDep, principal: ActivitiesWrite, activity_id: int, body: ActivityUpdate):
    activity = get_scoped(session, Activity, activity_id, principal, for_update=True)
    return service.detail(session, service.update_activity(session, principal, activity, body))


@router.delete("/{activity_id}", status_code=204)
def delete_activity(session: SessionDep, principal: ActivitiesWrite, activity_id: int):
    service.delete_activity(session, get_scoped(session, Activity, activity_id, principal, for_update=True))


@router.post("/{activity_id}/actions/hold", response_model=ActivityPublic)
def hold_activity(
    session: SessionDep, principal: ActivitiesWrite, activity_id: int, body: HoldAction | None = None
):
    """计划中 → 已开展:填报活动已经开展(可同时填人次、户数、成效)."""
    activity = get_scoped(session, Activity, activity_id, principal, for_update=True)
    return service.detail(session, service.hold(session, principal, activity, body or HoldAction()))


@router.post("/{activity_id}/actions/verify", response_model=ActivityPublic)
def verify_activity(
    session: SessionDep, principal: ActivitiesVerify, activity_id: int, body: VerifyAction | None = None
):
    """已开展 → 已核验:由上级组织核验,须有照片和签到."""
    activity = get_scoped(session, Activity, activity_id, principal, for_update=True)
    return service.detail(session, service.verify(session, principal, activity, body or VerifyAction()))


@router.post("/{activity_id}/photos", response_model=PhotoPublic, status_code=201)
def upload_photo(
    session: SessionDep,
    principal: ActivitiesWrite,
    activity_id: int,
    file: Annotated[UploadFile, File(description="JPEG 或 PNG,不超过 10 MB")],
    caption: Annotated[str | None, Form(max_length=200)] = None,
):
    activity = get_scoped(session, Activity, activity_id, principal, for_update=True)
    data = photo_store.read_limited(file.file)
    return service.photo_public(service.add_photo(session, principal, activity, data, caption))


@router.get("/{activity_id}/photos", response_model=list[PhotoPublic])
def list_photos(session: SessionDep, principal: ActivitiesRead, activity_id: int):
    activity = get_scoped(session, Activity, activity_id, principal)
    return [service.photo_public(p) for p in service.list_photos(session, activity)]


@router.get(
    "/{activity_id}/photos/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def get_photo(session: SessionDep, principal: ActivitiesRead, activity_id: int, photo_id: int):
    activity = get_scoped(session, Activity, activity_id, principal)
    key, media = service.photo_file(service.get_photo(session, activity, photo_id))
    return media_store().response(key, media, {"Cache-Control": "private, max-age=86400"})


@router.get(
    "/{activity_id}/photos/{photo_id}/thumbnail",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_photo_thumbnail(session: SessionDep, principal: ActivitiesRead, activity_id: int, photo_id: int):
    activity = get_scoped(session, Activity, activity_id, principal)
    key, media = service.photo_file(service.get_photo(session, activity, photo_id), thumbnail=True)
    return media_store().response(key, media, {"Cache-Control": "private, max-age=86400"})


@router.delete("/{activity_id}/photos/{photo_id}", status_code=204)
def delete_photo(session: SessionDep, principal: ActivitiesWrite, activity_id: int, photo_id: int):
    activity = get_scoped(session, Activity, activity_id, principal, for_update=True)
    service.delete_photo(session, activity, service.get_photo(session, activity, photo_id))


@router.post("/{activity_id}/sign-ins", response_model=SignInPublic, status_code=201)
def add_sign_in(session: SessionDep, principal: ActivitiesWrite, activity_id: int, body: SignInCreate):
    activity = get_scoped(session, Activity, activity_id, principal, for_update=True)
    return service.sign_in_public(principal, service.add_sign_in(session, principal, activity, body))


@router.get("/{activity_id}/sign-ins", response_model=list[SignInPublic])
def list_sign_ins(session: SessionDep, principal: ActivitiesRead, activity_id: int):
    activity = get_scoped(session, Activity, activity_id, principal)
    return [service.sign_in_public(principal, s) for s in service.list_sign_ins(session, activity)]


INACTIVE_COLUMNS = [
    Column("code", "组织代码"),
    Column("name", "名称"),
    Column("kind", "类型", "branch_kind"),
    Column("parent_name", "上级组织"),
    Column("last_held_at", "最近开展活动"),
]


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
    stmt = within(session, principal, service.inactive_statement(principal, days), Branch, under)
    if kind is not None:
        stmt = stmt.where(Branch.kind == kind.value)
    return page.respond(
        session,
        stmt,
        service.inactive_row,
        sortable={
            "code": Branch.code,
            "name": Branch.name,
            "id": Branch.id,
            "last_held_at": service.last_held_sort(),
        },
        default_sort="code",
        search=[Branch.name, Branch.code],
        columns=INACTIVE_COLUMNS,
        filename="inactive-branches",
        scalars=False,
    )
