"""Activities: report, hold, verify by the branch above, photos, sign-in sheets, inactive branches, figures."""

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from backend.activities import photos as photo_store
from backend.activities.models import Activity, ActivityPhoto, ActivitySignIn, ActivityStatus
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
from backend.branches.models import GRASSROOTS_KINDS, Branch
from backend.branches.schemas import TERM_WARNING_DAYS
from backend.core.db import UTCDateTime, utcnow
from backend.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from backend.core.paging import CHINA_TZ, today_in_china
from backend.core.schemas import DateRange
from backend.core.scope import Principal, get_scoped, scoped
from backend.core.security import mask_phone
from backend.integrations.service import record_event
from backend.members.models import Member, MemberTraining

API = "/api/v1"
DONE = (ActivityStatus.held.value, ActivityStatus.verified.value)
# A phone's clock may run a little fast; "held" needs the start to have come.
CLOCK_SLACK = timedelta(minutes=10)
MAX_STATS_MONTHS = 36


def _lock_verified(activity: Activity) -> None:
    if activity.status == ActivityStatus.verified:
        raise Conflict("活动已核验,不能再修改")


def thumbnail_url(activity_id: int, photo_id: int | None) -> str | None:
    return f"{API}/activities/{activity_id}/photos/{photo_id}/thumbnail" if photo_id else None


def to_public(activity: Activity | sa.Row, branch_name: str | None = None) -> ActivityPublic:
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
    return ActivityPublic.model_validate(data)


def list_statement(stmt):
    """Plain rows (the table's columns and the organiser's name), not ORM objects: a page is read, never changed."""
    branch_name = sa.select(Branch.name).where(Branch.id == Activity.branch_id).scalar_subquery()
    return stmt.with_only_columns(
        *Activity.__table__.c, branch_name.label("branch_name"), maintain_column_froms=True
    )


def row_to_public(row: sa.Row) -> ActivityPublic:
    return to_public(row, row.branch_name)


def detail(session: Session, activity: Activity) -> ActivityPublic:
    branch = session.get(Branch, activity.branch_id)
    return to_public(activity, branch.name if branch else None)


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
    activity.updated_at = utcnow()
    session.flush()
    return activity


def delete_activity(session: Session, activity: Activity) -> None:
    _lock_verified(activity)
    activity.deleted_at = utcnow()
    session.flush()


def hold(session: Session, principal: Principal, activity: Activity, data: HoldAction) -> Activity:
    """planned → held: the activity took place."""
    if activity.status != ActivityStatus.planned:
        raise InvalidTransition("只有计划中的活动才能填报为已开展", allowed=_allowed(activity))
    now = utcnow()
    if activity.starts_at > now + CLOCK_SLACK:
        raise Conflict("活动还没开始,不能填报为已开展;如时间有变,请先修改开始时间")
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(activity, key, value)
    _check_times(activity)
    activity.status = ActivityStatus.held
    activity.held_at = now
    activity.updated_at = now
    session.flush()
    return activity


def _allowed(activity: Activity) -> list[str]:
    return {ActivityStatus.planned: ["hold"], ActivityStatus.held: ["verify"]}.get(activity.status, [])


def verify(session: Session, principal: Principal, activity: Activity, data: VerifyAction) -> Activity:
    """held → verified, by a branch above the organiser, once there are photos and a sign-in sheet."""
    if activity.status != ActivityStatus.held:
        raise InvalidTransition("只有已开展的活动才能核验", allowed=_allowed(activity))
    # get_scoped already put the activity inside the caller's subtree; her own branch's work is not hers to verify.
    if activity.branch_id == principal.branch_id:
        raise Forbidden("本组织的活动须由上级组织核验")
    if activity.created_by == principal.subject:
        raise Forbidden("不能核验自己填报的活动,请由上级组织的其他干部核验")
    missing = []
    if activity.photo_count < 1:
        missing.append("photo")
    if activity.signed_in < 1:
        missing.append("sign_in")
    if missing:
        words = {"photo": "活动照片", "sign_in": "签到记录"}
        raise Conflict("还缺" + "、".join(words[m] for m in missing) + ",补齐后才能核验", missing=missing)
    now = utcnow()
    activity.status = ActivityStatus.verified
    activity.verified_at = now
    activity.verified_by = principal.subject
    activity.verified_by_name = principal.name
    activity.verify_note = data.note
    activity.updated_at = now
    session.flush()
    record_event(
        session,
        "activity.verified",
        activity.branch_id,
        {
            "activity_id": activity.id,
            "type": activity.type,
            "participants": activity.participants,
            "households": activity.households,
        },
    )
    return activity


def photo_public(photo: ActivityPhoto) -> PhotoPublic:
    base = f"{API}/activities/{photo.activity_id}/photos/{photo.id}"
    return PhotoPublic(
        id=photo.id,
        activity_id=photo.activity_id,
        content_type=photo.content_type,
        size=photo.size,
        width=photo.width,
        height=photo.height,
        sha256=photo.sha256,
        caption=photo.caption,
        url=base,
        thumbnail_url=base + "/thumbnail",
        created_at=photo.created_at,
    )


def add_photo(
    session: Session, principal: Principal, activity: Activity, data: bytes, caption: str | None = None
) -> ActivityPhoto:
    _lock_verified(activity)
    stored = photo_store.store_image(data)
    existing = session.exec(
        select(ActivityPhoto).where(
            ActivityPhoto.activity_id == activity.id, ActivityPhoto.sha256 == stored.sha256
        )
    ).first()
    if existing is not None:
        return existing
    photo = ActivityPhoto(
        activity_id=activity.id,
        sha256=stored.sha256,
        content_type=stored.content_type,
        size=stored.size,
        width=stored.width,
        height=stored.height,
        thumb_sha256=stored.thumb_sha256,
        caption=caption,
        uploaded_by=principal.subject,
    )
    session.add(photo)
    session.flush()
    activity.photo_count += 1
    if activity.cover_photo_id is None:
        activity.cover_photo_id = photo.id
    activity.updated_at = utcnow()
    session.flush()
    return photo


def list_photos(session: Session, activity: Activity) -> list[ActivityPhoto]:
    return list(
        session.exec(
            select(ActivityPhoto).where(ActivityPhoto.activity_id == activity.id).order_by(ActivityPhoto.id)
        ).all()
    )


def get_photo(session: Session, activity: Activity, photo_id: int) -> ActivityPhoto:
    photo = session.exec(
        select(ActivityPhoto).where(ActivityPhoto.id == photo_id, ActivityPhoto.activity_id == activity.id)
    ).first()
    if photo is None:
        raise NotFound("照片不存在")
    return photo


def photo_file(photo: ActivityPhoto, thumbnail: bool = False) -> tuple[str, str]:
    """The photo's (or its thumbnail's) key in the media store and its content type."""
    if thumbnail:
        return photo_store.key_for(photo.thumb_sha256, "jpg"), "image/jpeg"
    return photo_store.key_for(photo.sha256, photo_store.ext_for(photo.content_type)), photo.content_type


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


def sign_in_public(principal: Principal, sheet: ActivitySignIn) -> SignInPublic:
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


def china_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ).astimezone(UTC)


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


def inactive_row(row) -> InactiveBranch:
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


def _months(date_from: date, date_to: date) -> list[tuple[str, datetime, datetime]]:
    months = []
    cursor = date(date_from.year, date_from.month, 1)
    while cursor <= date_to:
        following = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        months.append((cursor.strftime("%Y-%m"), china_day_start(cursor), china_day_start(following)))
        cursor = following
    return months


def resolve_period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    today = today_in_china()
    date_to = date_to or today
    date_from = date_from or date(date_to.year, 1, 1)
    if date_from > date_to:
        raise ValidationFailed("date_from", "开始日期不能晚于结束日期")
    if (date_to.year - date_from.year) * 12 + date_to.month - date_from.month >= MAX_STATS_MONTHS:
        raise ValidationFailed("date_from", f"统计区间最长 {MAX_STATS_MONTHS} 个月")
    return date_from, date_to


def stats(
    session: Session, principal: Principal, root: Branch, date_from: date, date_to: date
) -> ActivityStats:
    start, end = china_day_start(date_from), china_day_start(date_to + timedelta(days=1))
    under = getattr(Activity, f"a{root.depth}") == root.id
    in_period = scoped(select(Activity), principal).where(
        under, Activity.starts_at >= start, Activity.starts_at < end
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
    months = _months(date_from, date_to)
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
        getattr(Branch, f"a{root.depth}") == root.id, Branch.kind.in_([k.value for k in GRASSROOTS_KINDS])
    )
    villages = _count(session, grassroots)
    active_ids = done.with_only_columns(Activity.branch_id).distinct().subquery()
    villages_active = _count(session, grassroots.where(Branch.id.in_(sa.select(active_ids.c.branch_id))))

    members = scoped(select(Member.id), principal).where(getattr(Member, f"a{root.depth}") == root.id)
    year_start = date(today_in_china().year, 1, 1)
    trained = members.where(
        sa.exists().where(MemberTraining.member_id == Member.id, MemberTraining.trained_on >= year_start)
    )
    today = today_in_china()
    branches = scoped(select(Branch.id), principal).where(getattr(Branch, f"a{root.depth}") == root.id)
    return ActivityStats(
        branch_id=root.id,
        branch_name=root.name,
        period=DateRange(date_from=date_from, date_to=date_to),
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
