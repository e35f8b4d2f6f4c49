"""Members, their posts, training log and talent-pool recommendations. No HTTP here."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.branches.models import Branch
from backend.core.clock import today_in_china
from backend.core.db import utcnow
from backend.core.errors import NotFound, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.scope import Principal, get_scoped, scoped, within
from backend.core.security import mask_phone
from backend.members.models import (
    Education,
    Gender,
    Member,
    MemberPosition,
    MemberRecommendation,
    MemberTitle,
    MemberTraining,
    PoliticalStatus,
)
from backend.members.schemas import (
    MemberCreate,
    MemberDetail,
    MemberPublic,
    MemberUpdate,
    PositionCreate,
    PositionPublic,
    PositionUpdate,
    RecommendationCreate,
    RecommendationPublic,
    RecommendationUpdate,
    TrainingCreate,
    TrainingPublic,
)

COLUMNS = [
    Column("name", "姓名"),
    Column("branch_name", "所在组织"),
    Column("title", "职务", "member_title"),
    Column("part_time", "兼职"),
    Column("gender", "性别", "gender"),
    Column("birth_date", "出生日期"),
    Column("phone", "电话"),
    Column("ethnicity", "民族"),
    Column("political_status", "政治面貌", "political_status"),
    Column("education", "学历", "education"),
    Column("talent_pool", "后备人才"),
    Column("last_trained_on", "最近培训"),
    Column("trained_this_year", "今年已培训"),
]
SORTABLE = {
    "name": Member.name,
    "created_at": Member.created_at,
    "birth_date": Member.birth_date,
    "id": Member.id,
}


def year_start(today: date | None = None) -> date:
    today = today or today_in_china()
    return date(today.year, 1, 1)


def current_position(today: date | None = None):
    today = today or today_in_china()
    return sa.or_(MemberPosition.ended_on.is_(None), MemberPosition.ended_on >= today)


def _primary_position_subquery(column):
    return (
        select(column)
        .where(MemberPosition.member_id == Member.id, current_position())
        .order_by(MemberPosition.started_on.desc(), MemberPosition.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _list_statement(stmt):
    """The member columns a list shows, in one query: branch name, main post, last training."""
    last_trained = (
        select(sa.func.max(MemberTraining.trained_on))
        .where(MemberTraining.member_id == Member.id)
        .scalar_subquery()
    )
    return stmt.add_columns(
        sa.select(Branch.name).where(Branch.id == Member.branch_id).scalar_subquery().label("branch_name"),
        _primary_position_subquery(MemberPosition.title).label("title"),
        _primary_position_subquery(MemberPosition.part_time).label("part_time"),
        last_trained.label("last_trained_on"),
    )


def _filter(
    stmt,
    *,
    title: MemberTitle | None = None,
    part_time: bool | None = None,
    trained_this_year: bool | None = None,
    talent_pool: bool | None = None,
):
    if title is not None:
        stmt = stmt.where(
            sa.exists().where(
                MemberPosition.member_id == Member.id, current_position(), MemberPosition.title == title.value
            )
        )
    if part_time is not None:
        stmt = stmt.where(
            sa.exists().where(
                MemberPosition.member_id == Member.id,
                current_position(),
                MemberPosition.part_time.is_(part_time),
            )
        )
    if trained_this_year is not None:
        trained = sa.exists().where(
            MemberTraining.member_id == Member.id, MemberTraining.trained_on >= year_start()
        )
        stmt = stmt.where(trained if trained_this_year else ~trained)
    if talent_pool is not None:
        stmt = stmt.where(Member.talent_pool.is_(talent_pool))
    return stmt


def shown_phone(principal: Principal, phone: str | None) -> tuple[str | None, bool]:
    # A work contact, so cadres with pii:read see it whole; everyone else sees it masked.
    if principal.can("pii:read") or not phone:
        return phone, False
    return mask_phone(phone), True


def _member_public(principal: Principal, member: Member, extra: dict[str, Any] | None = None) -> MemberPublic:
    extra = extra or {}
    phone, masked = shown_phone(principal, member.phone)
    last = extra.get("last_trained_on")
    if isinstance(last, str):
        last = date.fromisoformat(last)
    return MemberPublic(
        id=member.id,
        branch_id=member.branch_id,
        branch_name=extra.get("branch_name"),
        name=member.name,
        gender=member.gender,
        birth_date=member.birth_date,
        phone=phone,
        phone_masked=masked,
        ethnicity=member.ethnicity,
        political_status=member.political_status,
        education=member.education,
        talent_pool=member.talent_pool,
        note=member.note,
        title=extra.get("title"),
        part_time=None if extra.get("part_time") is None else bool(extra["part_time"]),
        last_trained_on=last,
        trained_this_year=bool(last and last >= year_start()),
        created_at=member.created_at,
        updated_at=member.updated_at,
    )


def _from_row(principal: Principal, row) -> MemberPublic:
    member, branch_name, title, part_time, last = row
    return _member_public(
        principal,
        member,
        {"branch_name": branch_name, "title": title, "part_time": part_time, "last_trained_on": last},
    )


def list_members(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    branch_id: int | None = None,
    title: MemberTitle | None = None,
    part_time: bool | None = None,
    trained_this_year: bool | None = None,
    talent_pool: bool | None = None,
    gender: Gender | None = None,
    political_status: PoliticalStatus | None = None,
    education: Education | None = None,
) -> Any:
    stmt = within(session, principal, scoped(select(Member), principal), Member, under)
    if branch_id is not None:
        stmt = stmt.where(Member.branch_id == branch_id)
    for column, value in (
        (Member.gender, gender),
        (Member.political_status, political_status),
        (Member.education, education),
    ):
        if value is not None:
            stmt = stmt.where(column == value.value)
    stmt = _filter(
        stmt, title=title, part_time=part_time, trained_this_year=trained_this_year, talent_pool=talent_pool
    )
    return page.respond(
        session,
        _list_statement(stmt),
        lambda row: _from_row(principal, row),
        sortable=SORTABLE,
        default_sort="-created_at",
        search=[Member.name, Member.phone],
        columns=COLUMNS,
        filename="members",
        scalars=False,
    )


def to_public(session: Session, principal: Principal, member: Member) -> MemberDetail:
    """A member with her posts, training log and recommendations; the phone masked without `pii:read`."""
    row = session.execute(_list_statement(select(Member).where(Member.id == member.id))).one()
    public = _from_row(principal, row)
    today = today_in_china()
    positions = session.exec(
        select(MemberPosition)
        .where(MemberPosition.member_id == member.id)
        .order_by(MemberPosition.started_on.desc(), MemberPosition.id.desc())
    ).all()
    trainings = session.exec(
        select(MemberTraining)
        .where(MemberTraining.member_id == member.id)
        .order_by(MemberTraining.trained_on.desc(), MemberTraining.id.desc())
    ).all()
    recs = session.exec(
        select(MemberRecommendation)
        .where(MemberRecommendation.member_id == member.id)
        .order_by(MemberRecommendation.recommended_on.desc(), MemberRecommendation.id.desc())
    ).all()
    return MemberDetail(
        **public.model_dump(),
        positions=[position_to_public(p, today) for p in positions],
        trainings=[TrainingPublic.model_validate(t) for t in trainings],
        recommendations=[RecommendationPublic.model_validate(r) for r in recs],
    )


def position_to_public(position: MemberPosition, today: date | None = None) -> PositionPublic:
    today = today or today_in_china()
    public = PositionPublic.model_validate(position)
    public.current = position.ended_on is None or position.ended_on >= today
    return public


def create_member(session: Session, principal: Principal, data: MemberCreate) -> Member:
    branch = get_scoped(session, Branch, data.branch_id or principal.branch_id, principal)
    member = Member(**data.model_dump(exclude={"branch_id", "positions"}))
    member.place_in(branch)
    session.add(member)
    session.flush()
    for i, position in enumerate(data.positions):
        _add_position(session, principal, member, position, field=["positions", str(i), "branch_id"])
    session.flush()
    return member


def update_member(session: Session, principal: Principal, member: Member, data: MemberUpdate) -> Member:
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "gender", "talent_pool"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(required, "此项不能为空")
    if "branch_id" in changes:
        branch_id = changes.pop("branch_id")
        if branch_id is None:
            raise ValidationFailed("branch_id", "此项不能为空")
        member.place_in(get_scoped(session, Branch, branch_id, principal))
    for key, value in changes.items():
        setattr(member, key, value)
    member.updated_at = utcnow()
    session.flush()
    return member


def delete_member(session: Session, member: Member) -> None:
    member.soft_delete()
    session.flush()


def _add_position(
    session: Session,
    principal: Principal,
    member: Member,
    data: PositionCreate,
    field: list[str] | None = None,
) -> MemberPosition:
    branch_id = data.branch_id or member.branch_id
    try:
        branch = get_scoped(session, Branch, branch_id, principal)
    except NotFound:
        raise ValidationFailed(field or "branch_id", "任职组织不存在或不在您的管辖范围内") from None
    position = MemberPosition(
        **data.model_dump(exclude={"branch_id", "concurrent_posts"}),
        concurrent_posts=[p.value for p in data.concurrent_posts],
    )
    position.member_id = member.id
    position.place_in(branch)
    session.add(position)
    return position


def add_position(
    session: Session, principal: Principal, member: Member, data: PositionCreate
) -> MemberPosition:
    position = _add_position(session, principal, member, data)
    member.updated_at = utcnow()
    session.flush()
    return position


def get_position(session: Session, member: Member, position_id: int) -> MemberPosition:
    position = session.exec(
        select(MemberPosition).where(MemberPosition.id == position_id, MemberPosition.member_id == member.id)
    ).first()
    if position is None:
        raise NotFound("职务不存在")
    return position


def update_position(session: Session, position: MemberPosition, data: PositionUpdate) -> MemberPosition:
    changes = data.model_dump(exclude_unset=True)
    for required in ("title", "part_time", "concurrent_posts"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(required, "此项不能为空")
    if "concurrent_posts" in changes:
        changes["concurrent_posts"] = [p.value for p in data.concurrent_posts or []]
    for key, value in changes.items():
        setattr(position, key, value)
    if position.started_on and position.ended_on and position.ended_on < position.started_on:
        raise ValidationFailed("ended_on", "任职结束日期不能早于开始日期")
    position.updated_at = utcnow()
    session.flush()
    return position


def delete_position(session: Session, position: MemberPosition) -> None:
    session.delete(position)
    session.flush()


def add_training(session: Session, member: Member, data: TrainingCreate) -> MemberTraining:
    training = MemberTraining(
        **data.model_dump(exclude={"trained_on"}),
        member_id=member.id,
        trained_on=data.trained_on or today_in_china(),
    )
    if training.trained_on > today_in_china():
        raise ValidationFailed("trained_on", "培训日期不能晚于今天")
    session.add(training)
    member.updated_at = utcnow()
    session.flush()
    return training


def delete_training(session: Session, member: Member, training_id: int) -> None:
    training = session.exec(
        select(MemberTraining).where(MemberTraining.id == training_id, MemberTraining.member_id == member.id)
    ).first()
    if training is None:
        raise NotFound("培训记录不存在")
    session.delete(training)
    session.flush()


def add_recommendation(session: Session, member: Member, data: RecommendationCreate) -> MemberRecommendation:
    rec = MemberRecommendation(
        **data.model_dump(exclude={"recommended_on"}),
        member_id=member.id,
        recommended_on=data.recommended_on or today_in_china(),
    )
    session.add(rec)
    # Recommending someone puts her in the talent pool.
    member.talent_pool = True
    member.updated_at = utcnow()
    session.flush()
    return rec


def update_recommendation(
    session: Session, member: Member, rec_id: int, data: RecommendationUpdate
) -> MemberRecommendation:
    rec = session.exec(
        select(MemberRecommendation).where(
            MemberRecommendation.id == rec_id, MemberRecommendation.member_id == member.id
        )
    ).first()
    if rec is None:
        raise NotFound("推荐记录不存在")
    changes = data.model_dump(exclude_unset=True)
    if "outcome" in changes and changes["outcome"] is None:
        raise ValidationFailed("outcome", "此项不能为空")
    for key, value in changes.items():
        setattr(rec, key, value)
    session.flush()
    return rec
