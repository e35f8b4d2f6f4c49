"""Activities: report, hold, verify by the branch above, photos, sign-in sheets, inactive branches, figures."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from backend.activities import photos as photo_store
from backend.activities.models import Activity, ActivityPhoto, ActivitySignIn, ActivityStatus, ActivityType
from backend.activities.schemas import (
    ActivityCreate,
    ActivityPublic,
    ActivityStats,
    ActivityUpdate,
    HoldAction,
    InactiveBranch,
    MonthCount,
    PhotoPublic,
    SignInCreate,
    SignInName,
    SignInNamePublic,
    SignInPublic,
    TypeCount,
    VerifyAction,
)
from backend.branches.models import GRASSROOTS_KINDS, Branch, BranchKind
from backend.branches.schemas import TERM_WARNING_DAYS
from backend.children.homes import check_activity_home
from backend.core.clock import Between, Period, today_in_china
from backend.core.db import UTCDateTime, utcnow
from backend.core.errors import Conflict, Forbidden, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.scope import Principal, get_scoped, scoped, subtree_filter, within
from backend.core.security import mask_phone
from backend.core.workflow import StepContext, Workflow, step
from backend.integrations.service import record_event
from backend.members.models import Member, MemberTraining
from backend.meta.dictionaries import label

API = "/api/v1"
DONE = (ActivityStatus.held.value, ActivityStatus.verified.value)
# A phone's clock may run a little fast; "held" needs the start to have come.
CLOCK_SLACK = timedelta(minutes=10)


def _lock_verified(activity: Activity) -> None:
    if activity.status == ActivityStatus.verified:
        raise Conflict("活动已核验,不能再修改")


def thumbnail_url(activity_id: int, photo_id: int | None) -> str | None:
    return f"{API}/activities/{activity_id}/photos/{photo_id}/thumbnail" if photo_id else None


def to_public(
    principal: Principal | None, activity: Activity | sa.Row, branch_name: str | None = None
) -> ActivityPublic:
    """An activity with its checklist and the steps `principal` may take on it now."""
    # One validation of a plain dict: about three times cheaper per row than attributes plus assignments.
    if isinstance(activity, sa.Row):
        data = dict(activity._mapping)
    else:
        data = {c.name: getattr(activity, c.name) for c in Activity.__table__.columns}
    data["branch_name"] = branch_name
    data["thumbnail_url"] = thumbnail_url(data["id"], data["cover_photo_id"])
    data["checklist"] = {
        "has_plan": bool(data["plan"]),
        "has_record": bool(data["outcome"]),
        "has_photos": data["photo_count"] > 0,
        "has_sign_in": data["signed_in"] > 0,
    }
    data["allowed_actions"] = WORKFLOW.allowed(activity, principal)
    return ActivityPublic.model_validate(data)


def detail(session: Session, principal: Principal, activity: Activity) -> ActivityPublic:
    branch = session.get(Branch, activity.branch_id)
    return to_public(principal, activity, branch.name if branch else None)


def get_activity(
    session: Session, principal: Principal, activity_id: int, *, for_update: bool = False
) -> Activity:
    return get_scoped(session, Activity, activity_id, principal, for_update=for_update)


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


def list_activities(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    branch_id: int | None = None,
    type: list[ActivityType] | None = None,
    status: list[ActivityStatus] | None = None,
    period: Between = Between(),
    missing_photos: bool | None = None,
    missing_sign_in: bool | None = None,
) -> Any:
    stmt = within(session, principal, scoped(select(Activity), principal), Activity, under)
    if branch_id is not None:
        stmt = stmt.where(Activity.branch_id == branch_id)
    if type:
        stmt = stmt.where(Activity.type.in_([t.value for t in type]))
    if status:
        stmt = stmt.where(Activity.status.in_([s.value for s in status]))
    stmt = stmt.where(period.covers(Activity.starts_at))
    if missing_photos is not None:
        stmt = stmt.where(Activity.photo_count == 0 if missing_photos else Activity.photo_count > 0)
    if missing_sign_in is not None:
        stmt = stmt.where(Activity.signed_in == 0 if missing_sign_in else Activity.signed_in > 0)
    # Plain rows (the table's columns and the organiser's name), not ORM objects: a page is read, never changed.
    branch_name = sa.select(Branch.name).where(Branch.id == Activity.branch_id).scalar_subquery()
    rows = stmt.with_only_columns(
        *Activity.__table__.c, branch_name.label("branch_name"), maintain_column_froms=True
    )
    return page.respond(
        session,
        rows,
        lambda row: to_public(principal, row, row.branch_name),
        sortable=SORTABLE,
        default_sort="-starts_at",
        search=[Activity.title, Activity.theme, Activity.venue],
        columns=COLUMNS,
        filename="activities",
        scalars=False,
    )


def create_activity(session: Session, principal: Principal, data: ActivityCreate) -> Activity:
    branch = get_scoped(session, Branch, data.branch_id or principal.branch_id, principal)
    now = utcnow()
    starts_at = (data.starts_at or now).astimezone(UTC)
    status = data.status or (
        ActivityStatus.held if starts_at <= now + CLOCK_SLACK else ActivityStatus.planned
    )
    if status == ActivityStatus.verified:
        raise ValidationFailed("status", "新建活动只能是计划中(planned)或已开展(held),核验由上级组织进行")
    if status == ActivityStatus.held and starts_at > now + CLOCK_SLACK:
        raise ValidationFailed("starts_at", "活动还没开始,不能填报为已开展")
    activity = Activity(
        **data.model_dump(exclude={"branch_id", "starts_at", "status", "co_organisers"}),
        co_organisers=[n.strip() for n in data.co_organisers or []],
        starts_at=starts_at,
        status=status,
        created_by=principal.subject,
        held_at=now if status == ActivityStatus.held else None,
    )
    _check_times(activity)
    check_activity_home(session, principal, activity)
    activity.place_in(branch)
    session.add(activity)
    session.flush()
    return activity


def _check_times(activity: Activity) -> None:
    if activity.ends_at is not None and activity.ends_at < activity.starts_at:
        raise ValidationFailed("ends_at", "结束时间不能早于开始时间")


def update_activity(
    session: Session, principal: Principal, activity: Activity, data: ActivityUpdate
) -> Activity:
    _lock_verified(activity)
    changes = data.model_dump(exclude_unset=True)
    for required in ("type", "title", "starts_at"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(required, "此项不能为空")
    if "co_organisers" in changes:
        changes["co_organisers"] = [n.strip() for n in data.co_organisers or []]
    for key, value in changes.items():
        setattr(activity, key, value)
    if activity.status == ActivityStatus.held and activity.starts_at > utcnow() + CLOCK_SLACK:
        raise ValidationFailed("starts_at", "已开展的活动,开始时间不能在将来")
    _check_times(activity)
    check_activity_home(session, principal, activity)
    activity.updated_at = utcnow()
    session.flush()
    return activity


def delete_activity(session: Session, activity: Activity) -> None:
    _lock_verified(activity)
    activity.soft_delete()
    session.flush()


def _hold(ctx: StepContext[Activity]) -> None:
    """planned → held: the activity took place (with its head count, households and outcome, if given)."""
    activity = ctx.record
    # Checked on the attempt, not a guard: a planned activity offers `hold`, and says so if it is too early.
    if activity.starts_at > ctx.now + CLOCK_SLACK:
        raise Conflict("活动还没开始,不能填报为已开展;如时间有变,请先修改开始时间")
    for key, value in ctx.body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(activity, key, value)
    _check_times(activity)
    activity.held_at = ctx.now


def _by_the_branch_above(activity: Activity, principal: Principal | None, _now: datetime) -> Forbidden | None:
    """Verification is the branch above's: not the organiser's own, nor whoever reported it."""
    if principal is None:
        return None
    # get_scoped already put the activity inside the caller's subtree; her own branch's work is not hers to verify.
    if activity.branch_id == principal.branch_id:
        return Forbidden("本组织的活动须由上级组织核验")
    if activity.created_by == principal.subject:
        return Forbidden("不能核验自己填报的活动,请由上级组织的其他干部核验")
    return None


def _verify(ctx: StepContext[Activity]) -> None:
    """held → verified, once there are photos and a sign-in sheet (the checklist shows what is missing)."""
    activity, principal = ctx.record, ctx.principal
    missing = []
    if activity.photo_count < 1:
        missing.append("photo")
    if activity.signed_in < 1:
        missing.append("sign_in")
    if missing:
        words = {"photo": "活动照片", "sign_in": "签到记录"}
        raise Conflict("还缺" + "、".join(words[m] for m in missing) + ",补齐后才能核验", missing=missing)
    activity.verified_at = ctx.now
    activity.verified_by = principal.subject
    activity.verified_by_name = principal.name
    activity.verify_note = ctx.body.note
    record_event(
        ctx.session,
        "activity.verified",
        activity.branch_id,
        {
            "activity_id": activity.id,
            "type": activity.type,
            "participants": activity.participants,
            "households": activity.households,
        },
    )


WORKFLOW = Workflow(
    "活动",
    [
        step(
            "hold",
            "填报已开展",
            [ActivityStatus.planned],
            ActivityStatus.held,
            body=HoldAction,
            apply=_hold,
            description="计划中 → 已开展:填报活动已经开展(可同时填人次、户数、成效)。",
        ),
        step(
            "verify",
            "核验",
            [ActivityStatus.held],
            ActivityStatus.verified,
            body=VerifyAction,
            guard=_by_the_branch_above,
            apply=_verify,
            permission="activities:verify",
            description="已开展 → 已核验:由上级组织核验,须有照片和签到。",
        ),
    ],
    permission="activities:write",
    state_label=lambda value: label("activity_status", value),
    state_key="activity_status",
)


def act(
    session: Session, principal: Principal, activity: Activity, action: str, body: Any = None
) -> Activity:
    """Take one step of the planned → held → verified flow."""
    ctx = WORKFLOW.perform(session, principal, activity, action, body)
    activity.updated_at = ctx.now
    session.flush()
    return activity


def photo_to_public(photo: ActivityPhoto) -> PhotoPublic:
    base = f"{API}/activities/{photo.activity_id}/photos/{photo.id}"
    return PhotoPublic(activity_id=photo.activity_id, **photo_store.public_fields(photo, base))


def add_photo(
    session: Session, principal: Principal, activity: Activity, data: bytes, caption: str | None = None
) -> ActivityPhoto:
    _lock_verified(activity)
    photo, added = photo_store.attach(
        session, ActivityPhoto, {"activity_id": activity.id}, data, caption, principal.subject
    )
    if added:
        activity.photo_count += 1
        if activity.cover_photo_id is None:
            activity.cover_photo_id = photo.id
        activity.updated_at = utcnow()
        session.flush()
    return photo


def list_photos(session: Session, activity: Activity) -> list[ActivityPhoto]:
    return photo_store.photos_of(session, ActivityPhoto, {"activity_id": activity.id})


def get_photo(session: Session, activity: Activity, photo_id: int) -> ActivityPhoto:
    return photo_store.photo_of(session, ActivityPhoto, {"activity_id": activity.id}, photo_id)


def photo_file(photo: ActivityPhoto, thumbnail: bool = False) -> tuple[str, str]:
    """The photo's (or its thumbnail's) key in the media store and its content type."""
    return photo_store.file_of(photo, thumbnail)


def delete_photo(session: Session, activity: Activity, photo: ActivityPhoto) -> None:
    _lock_verified(activity)
    session.delete(photo)
    session.flush()
    # The file stays: other activities may share the same content.
    activity.photo_count = max(0, activity.photo_count - 1)
    if activity.cover_photo_id == photo.id:
        activity.cover_photo_id = session.exec(
            select(ActivityPhoto.id)
            .where(ActivityPhoto.activity_id == activity.id)
            .order_by(ActivityPhoto.id)
        ).first()
    activity.updated_at = utcnow()
    session.flush()


def add_sign_in(
    session: Session, principal: Principal, activity: Activity, data: SignInCreate
) -> ActivitySignIn:
    _lock_verified(activity)
    if data.names is not None:
        names = [SignInName(name=n.strip()) if isinstance(n, str) else n for n in data.names]
        rows = [n.model_dump() for n in names]
        sheet = ActivitySignIn(
            activity_id=activity.id, head_count=len(rows), names=rows, created_by=principal.subject
        )
    else:
        sheet = ActivitySignIn(
            activity_id=activity.id, head_count=data.head_count, created_by=principal.subject
        )
    session.add(sheet)
    activity.signed_in += sheet.head_count
    activity.updated_at = utcnow()
    session.flush()
    return sheet


def sign_in_to_public(principal: Principal, sheet: ActivitySignIn) -> SignInPublic:
    names = None
    if sheet.names is not None:
        show = principal.can("pii:read")
        names = [
            SignInNamePublic(name=n["name"], phone=n.get("phone") if show else mask_phone(n.get("phone")))
            for n in sheet.names
        ]
    return SignInPublic(
        id=sheet.id,
        activity_id=sheet.activity_id,
        head_count=sheet.head_count,
        names=names,
        created_at=sheet.created_at,
    )


def list_sign_ins(session: Session, activity: Activity) -> list[ActivitySignIn]:
    return list(
        session.exec(
            select(ActivitySignIn)
            .where(ActivitySignIn.activity_id == activity.id)
            .order_by(ActivitySignIn.id)
        ).all()
    )


# ---- inactive branches and figures


def _last_held():
    return (
        sa.select(sa.func.max(Activity.starts_at))
        .where(Activity.branch_id == Branch.id, Activity.deleted_at.is_(None), Activity.status.in_(DONE))
        .scalar_subquery()
    )


def last_held_sort():
    """Sort key for the inactive list: never active first, then longest idle (NULLs order differently per database)."""
    return sa.func.coalesce(_last_held(), sa.literal(datetime(1970, 1, 1, tzinfo=UTC), UTCDateTime()))


def inactive_statement(principal: Principal, days: int, now: datetime | None = None):
    """Villages and communities in scope with no held or verified activity that started in the last `days` days."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    recent = sa.exists().where(
        Activity.branch_id == Branch.id,
        Activity.deleted_at.is_(None),
        Activity.status.in_(DONE),
        Activity.starts_at >= since,
        Activity.starts_at <= now + CLOCK_SLACK,
    )
    last_held = _last_held()
    parent = aliased(Branch)
    parent_name = sa.select(parent.name).where(parent.id == Branch.parent_id).scalar_subquery()
    stmt = scoped(select(Branch), principal).where(
        Branch.kind.in_([k.value for k in GRASSROOTS_KINDS]), ~recent
    )
    return stmt.add_columns(parent_name.label("parent_name"), last_held.label("last_held_at"))


INACTIVE_COLUMNS = [
    Column("code", "组织代码"),
    Column("name", "名称"),
    Column("kind", "类型", "branch_kind"),
    Column("parent_name", "上级组织"),
    Column("last_held_at", "最近开展活动"),
]


def list_inactive_branches(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    days: int = 90,
    under: int | None = None,
    kind: BranchKind | None = None,
) -> Any:
    stmt = within(session, principal, inactive_statement(principal, days), Branch, under)
    if kind is not None:
        stmt = stmt.where(Branch.kind == kind.value)
    return page.respond(
        session,
        stmt,
        inactive_to_public,
        sortable={
            "code": Branch.code,
            "name": Branch.name,
            "id": Branch.id,
            "last_held_at": last_held_sort(),
        },
        default_sort="code",
        search=[Branch.name, Branch.code],
        columns=INACTIVE_COLUMNS,
        filename="inactive-branches",
        scalars=False,
    )


def inactive_to_public(row) -> InactiveBranch:
    branch, parent_name, last = row
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return InactiveBranch(
        id=branch.id,
        code=branch.code,
        name=branch.name,
        kind=branch.kind,
        parent_id=branch.parent_id,
        parent_name=parent_name,
        path=branch.path,
        last_held_at=last,
    )


def stats(session: Session, principal: Principal, root: Branch, period: Period) -> ActivityStats:
    in_period = scoped(select(Activity), principal).where(
        subtree_filter(Activity, root.id, root.depth), period.covers(Activity.starts_at)
    )
    people = sa.func.coalesce(Activity.participants, Activity.signed_in)
    base = in_period.subquery()
    by_status = dict(session.execute(sa.select(base.c.status, sa.func.count()).group_by(base.c.status)).all())
    done = in_period.where(Activity.status.in_(DONE))
    type_rows = session.execute(
        done.with_only_columns(
            Activity.type,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(people), 0),
            sa.func.coalesce(sa.func.sum(Activity.households), 0),
        )
        .group_by(Activity.type)
        .order_by(Activity.type)
    ).all()
    months = period.months()
    month_col = sa.case(
        *[(Activity.starts_at < upper, label) for label, _lower, upper in months], else_=months[-1][0]
    )
    # Group on a subquery's column: PostgreSQL will not match a CASE with bound parameters to itself.
    by_month = done.with_only_columns(month_col.label("month"), people.label("people")).subquery()
    month_rows = {
        m: (n, p)
        for m, n, p in session.execute(
            sa.select(
                by_month.c.month, sa.func.count(), sa.func.coalesce(sa.func.sum(by_month.c.people), 0)
            ).group_by(by_month.c.month)
        ).all()
    }

    grassroots = scoped(select(Branch.id), principal).where(
        subtree_filter(Branch, root.id, root.depth), Branch.kind.in_([k.value for k in GRASSROOTS_KINDS])
    )
    villages = _count(session, grassroots)
    active_ids = done.with_only_columns(Activity.branch_id).distinct().subquery()
    villages_active = _count(session, grassroots.where(Branch.id.in_(sa.select(active_ids.c.branch_id))))

    members = scoped(select(Member.id), principal).where(subtree_filter(Member, root.id, root.depth))
    year_start = date(today_in_china().year, 1, 1)
    trained = members.where(
        sa.exists().where(MemberTraining.member_id == Member.id, MemberTraining.trained_on >= year_start)
    )
    today = today_in_china()
    branches = scoped(select(Branch.id), principal).where(subtree_filter(Branch, root.id, root.depth))
    return ActivityStats(
        branch_id=root.id,
        branch_name=root.name,
        period=period.out(),
        activities=sum(r[1] for r in type_rows),
        planned=by_status.get("planned", 0),
        held=by_status.get("held", 0),
        verified=by_status.get("verified", 0),
        participants=int(sum(r[2] for r in type_rows)),
        households=int(sum(r[3] for r in type_rows)),
        by_type=[TypeCount(type=t, activities=n, participants=int(p)) for t, n, p, _h in type_rows],
        by_month=[
            MonthCount(
                month=m,
                activities=month_rows.get(m, (0, 0))[0],
                participants=int(month_rows.get(m, (0, 0))[1]),
            )
            for m, _l, _u in months
        ],
        villages=villages,
        villages_active=villages_active,
        villages_active_share=round(villages_active / villages, 4) if villages else None,
        members=_count(session, members),
        members_trained_this_year=_count(session, trained),
        terms_overdue=_count(session, branches.where(Branch.term_due_on < today)),
        terms_due_soon=_count(
            session,
            branches.where(
                Branch.term_due_on >= today, Branch.term_due_on <= today + timedelta(days=TERM_WARNING_DAYS)
            ),
        ),
    )


def _count(session: Session, stmt) -> int:
    return session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
