"""两癌 screening rules: the register, plans, results and their contradictions, the figures. No HTTP here.

Follow-ups and aid, with their workflows, are in `follow_ups.py`. Presenters: `to_public` for a screening record
(the main kind here), `woman_to_public` and `plan_to_public` for the others; each list is `list_<things>(session,
principal, page, *, filters)` with its filters, sort keys and export columns.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Session, select

from backend.branches.models import Branch
from backend.core import audit
from backend.core.clock import Between, Period, today_in_china
from backend.core.db import is_unique_violation, utcnow
from backend.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed, validation_errors
from backend.core.paging import Column, ListParams
from backend.core.scope import ANCESTOR_COLUMNS, Principal, get_scoped, scoped, subtree_filter, within
from backend.core.security import blind_index, blind_indexes, encrypt_field, mask_id_number, mask_phone
from backend.integrations.service import record_event
from backend.screenings.idcard import age_on, parse_id_number
from backend.screenings.models import (
    METHODS_BY_KIND,
    AidApplication,
    AidStatus,
    Diagnosis,
    FollowUp,
    FollowUpStatus,
    HardshipStatus,
    ScreeningKind,
    ScreeningMethod,
    ScreeningPlan,
    ScreeningRecord,
    ScreeningResult,
    ScreeningSource,
    Tbs,
    Woman,
)
from backend.screenings.schemas import (
    BatchRow,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    RecordCreate,
    RecordPublic,
    WomanCreate,
    WomanPii,
    WomanPublic,
    WomanUpdate,
)


class ScreeningSettings(BaseSettings):
    """Follow-up deadlines, overridable with SCREENING_NOTICE_DAYS / SCREENING_RECHECK_DAYS."""

    model_config = SettingsConfigDict(env_prefix="SCREENING_", env_file=".env", extra="ignore")

    notice_days: int = 1
    recheck_days: int = 30


@lru_cache
def screening_settings() -> ScreeningSettings:
    return ScreeningSettings()


def jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def place_like(target: Any, source: Any) -> None:
    """Put a row in the same branch as another row (a record goes where the woman is registered)."""
    target.branch_id = source.branch_id
    for name in ANCESTOR_COLUMNS:
        setattr(target, name, getattr(source, name))


# ---- women

WOMAN_COLUMNS = [
    Column("name", "姓名"),
    Column("id_number", "身份证号(脱敏)"),
    Column("phone", "联系电话(脱敏)"),
    Column("birth_date", "出生日期"),
    Column("age", "年龄"),
    Column("hardship_status", "困难类型", "hardship_status"),
    Column("hardship_verified_by", "核实人"),
]


def woman_to_public(w: Any) -> WomanPublic:
    """Her ID number and phone masked; the clear values only through `reveal_woman`."""
    return WomanPublic(
        id=w.id,
        name=w.name,
        id_number=w.id_number_masked,
        phone=w.phone_masked,
        birth_date=w.birth_date,
        age=age_on(w.birth_date, today_in_china()),
        branch_id=w.branch_id,
        hardship_status=w.hardship_status,
        hardship_verified_by=w.hardship_verified_by,
        hardship_verified_at=w.hardship_verified_at,
        created_at=w.created_at,
        updated_at=w.updated_at,
    )


def list_women(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    hardship_status: HardshipStatus | None = None,
    born_from: date | None = None,
    born_to: date | None = None,
) -> Any:
    stmt = within(session, principal, scoped(select(Woman), principal), Woman, under)
    if hardship_status:
        stmt = stmt.where(Woman.hardship_status == hardship_status)
    if born_from:
        stmt = stmt.where(Woman.birth_date >= born_from)
    if born_to:
        stmt = stmt.where(Woman.birth_date <= born_to)
    return page.respond(
        session,
        stmt,
        woman_to_public,
        search=[Woman.name],
        columns=WOMAN_COLUMNS,
        filename="women",
        sortable={
            "created_at": Woman.created_at,
            "name": Woman.name,
            "birth_date": Woman.birth_date,
            "id": Woman.id,
        },
    )


def find_woman(session: Session, principal: Principal, id_number: str) -> WomanPublic:
    """A registered woman in the caller's subtree by her ID number (under the current key or, mid-rotation, an old one)."""
    stmt = scoped(select(Woman).where(Woman.id_number_hash.in_(id_number_hashes(id_number))), principal)
    woman = session.exec(stmt).first()
    if woman is None:
        raise NotFound("没有找到这个身份证号的登记(或不在您的管辖范围内)")
    return woman_to_public(woman)


def reveal_woman(session: Session, principal: Principal, woman_id: int) -> WomanPii:
    """Her ID number and phone in clear, through the one audited reveal (which needs `pii:read`)."""
    if not principal.can("women:read"):
        raise Forbidden("当前角色没有「women:read」权限")
    woman = get_scoped(session, Woman, woman_id, principal)
    clear = audit.reveal(session, principal, woman, ["id_number", "phone"])
    return WomanPii(id=woman.id, name=woman.name, id_number=clear["id_number"], phone=clear["phone"])


def pii_columns(
    id_number: str | None = None, phone: str | None = None, *, with_id: bool = True
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if with_id and id_number is not None:
        values.update(
            id_number_enc=encrypt_field(id_number),
            id_number_hash=blind_index(id_number, "id_number"),
            id_number_masked=mask_id_number(id_number),
        )
    phone = (phone or "").strip() or None
    values.update(
        phone_enc=encrypt_field(phone) if phone else None,
        phone_hash=blind_index(phone, "phone") if phone else None,
        phone_masked=mask_phone(phone) if phone else None,
    )
    return values


def id_number_hash(id_number: str) -> str:
    return blind_index(id_number, "id_number")


def id_number_hashes(id_number: str) -> list[str]:
    """What a stored row may hold for this number: its hash under the current key and, mid-rotation, the old ones."""
    return blind_indexes(id_number, "id_number")


def _duplicate(session: Session, principal: Principal, existing_id: int) -> Conflict:
    visible = session.exec(scoped(select(Woman.id).where(Woman.id == existing_id), principal)).first()
    extra = {"woman_id": existing_id} if visible else {}
    where = "" if visible else "(登记在其他单位,请联系上级妇联核对)"
    return Conflict(
        f"该身份证号已登记{where}",
        errors=[{"field": "id_number", "loc": ["id_number"], "message": "该身份证号已登记"}],
        **extra,
    )


def register_woman(session: Session, principal: Principal, data: WomanCreate, branch: Branch) -> Woman:
    id_number, born = parse_id_number(data.id_number)
    existing = session.exec(
        select(Woman.id).where(Woman.id_number_hash.in_(id_number_hashes(id_number)))
    ).first()
    if existing is not None:
        raise _duplicate(session, principal, existing)
    woman = Woman(
        name=data.name.strip(),
        birth_date=born,
        hardship_status=data.hardship_status,
        **pii_columns(id_number, data.phone),
    )
    if data.hardship_status != HardshipStatus.none:
        woman.hardship_verified_by, woman.hardship_verified_at = principal.name, utcnow()
    woman.place_in(branch)
    try:
        with session.begin_nested():
            session.add(woman)
            session.flush()
    except sa.exc.IntegrityError as exc:
        if is_unique_violation(exc):
            raise Conflict("该身份证号已登记") from None
        raise
    return woman


def update_woman(session: Session, principal: Principal, woman: Woman, data: WomanUpdate) -> Woman:
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        if not changes["name"]:
            raise ValidationFailed("name", "姓名不能为空")
        woman.name = changes["name"].strip()
    if "phone" in changes:
        for key, value in pii_columns(phone=changes["phone"], with_id=False).items():
            setattr(woman, key, value)
    if changes.get("hardship_status") is not None and changes["hardship_status"] != woman.hardship_status:
        set_hardship(woman, changes["hardship_status"], principal.name)
    if changes.get("branch_id") is not None and changes["branch_id"] != woman.branch_id:
        move_woman(session, woman, get_scoped(session, Branch, changes["branch_id"], principal))
    woman.updated_at = utcnow()
    session.flush()
    return woman


def set_hardship(woman: Woman, status: HardshipStatus, verified_by: str) -> None:
    woman.hardship_status = status
    woman.hardship_verified_by = verified_by
    woman.hardship_verified_at = utcnow()


def move_woman(session: Session, woman: Woman, branch: Branch) -> None:
    """She moved village: her records, follow-ups and aid go with her, so the new village sees her history."""
    woman.place_in(branch)
    values = {"branch_id": branch.id, **{a: getattr(branch, a) for a in ANCESTOR_COLUMNS}}
    for model in (ScreeningRecord, FollowUp, AidApplication):
        session.execute(sa.update(model).where(model.woman_id == woman.id).values(**values))


def soft_delete_woman(session: Session, woman: Woman) -> None:
    has_records = session.exec(
        select(ScreeningRecord.id).where(
            ScreeningRecord.woman_id == woman.id, ScreeningRecord.deleted_at.is_(None)
        )
    ).first()
    if has_records is not None:
        raise Conflict("她已有筛查记录,不能删除;如登记有误请修改")
    woman.soft_delete()
    session.flush()


# ---- plans

PLAN_COLUMNS = [
    Column("year", "年度"),
    Column("name", "名称"),
    Column("branch_id", "组织"),
    Column("target_count", "计划人数"),
    Column("budget", "预算(元)"),
]


def plan_to_public(plan: ScreeningPlan) -> PlanPublic:
    return PlanPublic.model_validate(plan, from_attributes=True)


def list_plans(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    year: int | None = None,
) -> Any:
    """`year` is the plan's own field (a plan is for one year), not a period."""
    stmt = within(session, principal, scoped(select(ScreeningPlan), principal), ScreeningPlan, under)
    if year:
        stmt = stmt.where(ScreeningPlan.year == year)
    return page.respond(
        session,
        stmt,
        plan_to_public,
        search=[ScreeningPlan.name],
        filename="screening-plans",
        sortable={"created_at": ScreeningPlan.created_at, "year": ScreeningPlan.year, "id": ScreeningPlan.id},
        columns=PLAN_COLUMNS,
    )


def create_plan(session: Session, principal: Principal, data: PlanCreate, branch: Branch) -> ScreeningPlan:
    clash = session.exec(
        select(ScreeningPlan.id).where(
            ScreeningPlan.branch_id == branch.id,
            ScreeningPlan.year == data.year,
            ScreeningPlan.deleted_at.is_(None),
        )
    ).first()
    if clash is not None:
        raise Conflict(f"{branch.name} {data.year} 年的筛查计划已存在", plan_id=clash)
    plan = ScreeningPlan(**data.model_dump(exclude={"branch_id"}))
    plan.place_in(branch)
    session.add(plan)
    session.flush()
    return plan


def update_plan(session: Session, plan: ScreeningPlan, data: PlanUpdate) -> ScreeningPlan:
    changes = data.model_dump(exclude_unset=True)
    if "target_count" in changes and changes["target_count"] is None:
        raise ValidationFailed("target_count", "计划人数不能为空")
    for key, value in changes.items():
        setattr(plan, key, value)
    plan.updated_at = utcnow()
    session.flush()
    return plan


def delete_plan(session: Session, plan: ScreeningPlan) -> None:
    """Hidden, not removed: the records that counted against it keep their link."""
    plan.soft_delete()
    session.flush()


def find_plan(session: Session, woman: Any, year: int) -> int | None:
    """The plan of the nearest branch above (or at) hers for that year."""
    ancestors = [getattr(woman, a) for a in ANCESTOR_COLUMNS if getattr(woman, a) is not None]
    rows = session.execute(
        sa.select(ScreeningPlan.id, ScreeningPlan.branch_id).where(
            ScreeningPlan.year == year,
            ScreeningPlan.branch_id.in_(ancestors),
            ScreeningPlan.deleted_at.is_(None),
        )
    ).all()
    if not rows:
        return None
    depth = {bid: i for i, bid in enumerate(ancestors)}
    return max(rows, key=lambda r: depth[r.branch_id]).id


# ---- records

RECORD_COLUMNS = [
    Column("woman_id", "妇女编号"),
    Column("kind", "筛查类型", "screening_kind"),
    Column("screened_on", "筛查日期"),
    Column("institution", "筛查机构"),
    Column("method", "检查方法", "screening_method"),
    Column("result", "结果", "screening_result"),
    Column("tbs", "TBS 分级"),
    Column("birads", "BI-RADS"),
    Column("consent", "知情同意"),
    Column("source", "来源", "screening_source"),
    Column("external_id", "外部编号"),
]


def to_public(row: Any, principal: Principal) -> RecordPublic:
    """A record with its follow-up's id. A result is health data: shown only to those who may read personal data
    (follow-ups carry the work)."""
    record, follow_up_id = row
    data = RecordPublic.model_validate(record, from_attributes=True)
    data.follow_up_id = follow_up_id
    if not principal.can("pii:read"):
        data.result = data.tbs = data.birads = None
        data.result_masked = True
    return data


def _with_follow_up(stmt: Any) -> Any:
    return stmt.add_columns(FollowUp.id).outerjoin(FollowUp, FollowUp.record_id == ScreeningRecord.id)


def get_record(session: Session, principal: Principal, record_id: int) -> RecordPublic:
    stmt = scoped(select(ScreeningRecord).where(ScreeningRecord.id == record_id), principal)
    row = session.execute(_with_follow_up(stmt)).first()
    if row is None:
        raise NotFound(f"{ScreeningRecord.__label__}不存在或无权查看")
    return to_public(row, principal)


def list_records(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    kind: ScreeningKind | None = None,
    result: list[ScreeningResult] | None = None,
    source: ScreeningSource | None = None,
    woman_id: int | None = None,
    plan_id: int | None = None,
    period: Between = Between(),
) -> Any:
    """`start`/`end`: the screening date, both inclusive."""
    stmt = within(session, principal, scoped(select(ScreeningRecord), principal), ScreeningRecord, under)
    for col, value in (
        (ScreeningRecord.kind, kind),
        (ScreeningRecord.source, source),
        (ScreeningRecord.woman_id, woman_id),
        (ScreeningRecord.plan_id, plan_id),
    ):
        if value is not None:
            stmt = stmt.where(col == value)
    if result:
        stmt = stmt.where(ScreeningRecord.result.in_([r.value for r in result]))
    stmt = stmt.where(period.covers_day(ScreeningRecord.screened_on))
    return page.respond(
        session,
        _with_follow_up(stmt),
        lambda row: to_public(row, principal),
        scalars=False,
        columns=RECORD_COLUMNS,
        filename="screenings",
        search=[ScreeningRecord.institution, ScreeningRecord.external_id],
        sortable={
            "created_at": ScreeningRecord.created_at,
            "screened_on": ScreeningRecord.screened_on,
            "id": ScreeningRecord.id,
        },
    )


# Cytology classes that cannot go with a "normal" result.
CERVICAL_NOT_NORMAL = {Tbs.LSIL, Tbs.HSIL, Tbs.ASC_H, Tbs.SCC, Tbs.AGC}
BREAST_NOT_NORMAL = {4, 5, 6}
IMAGING = {ScreeningMethod.ultrasound, ScreeningMethod.mammography}
TBS_LABEL = {
    "ASC-H": "ASC-H(不除外高级别病变)",
    "HSIL": "HSIL(高级别病变)",
    "LSIL": "LSIL(低级别病变)",
    "SCC": "SCC(鳞状细胞癌)",
    "AGC": "AGC(非典型腺细胞)",
}


def check_result(
    kind: ScreeningKind,
    method: ScreeningMethod | None,
    result: ScreeningResult,
    tbs: Tbs | None,
    birads: int | None,
    screened_on: date,
) -> None:
    """Refuse a result that contradicts its own details, naming the field and the reason."""
    if screened_on > today_in_china():
        raise ValidationFailed("screened_on", "筛查日期不能晚于今天")
    if screened_on.year < 2000:
        raise ValidationFailed("screened_on", "筛查日期不合理")
    kind_name = "宫颈癌" if kind == ScreeningKind.cervical else "乳腺癌"
    if method is not None and method not in METHODS_BY_KIND[kind]:
        raise ValidationFailed("method", f"{kind_name}筛查不能使用这种检查方法")
    if kind == ScreeningKind.cervical:
        if birads is not None:
            raise ValidationFailed("birads", "BI-RADS 分级只用于乳腺影像检查,宫颈癌筛查不应填写")
        if result == ScreeningResult.normal and tbs in CERVICAL_NOT_NORMAL:
            raise ValidationFailed("result", f"TBS 分级为 {TBS_LABEL[tbs.value]},结果不能是「未见异常」")
    else:
        if tbs is not None:
            raise ValidationFailed("tbs", "TBS 分级只用于宫颈细胞学检查,乳腺癌筛查不应填写")
        if birads is not None and method is not None and method not in IMAGING:
            raise ValidationFailed("birads", "BI-RADS 分级只用于乳腺超声或X线检查")
        if result == ScreeningResult.normal and birads in BREAST_NOT_NORMAL:
            raise ValidationFailed("result", f"BI-RADS 为 {birads} 类(可疑或确诊恶性),结果不能是「未见异常」")


def record_fields(data: Any) -> dict[str, Any]:
    return {
        k: getattr(data, k)
        for k in ("kind", "screened_on", "institution", "method", "result", "tbs", "birads", "consent")
    }


def create_record(
    session: Session,
    principal: Principal,
    woman: Woman,
    fields: dict[str, Any],
    *,
    plan_id: int | None = None,
    source: ScreeningSource = ScreeningSource.manual,
    sender: str | None = None,
    external_id: str | None = None,
) -> ScreeningRecord:
    check_result(
        fields["kind"],
        fields.get("method"),
        fields["result"],
        fields.get("tbs"),
        fields.get("birads"),
        fields["screened_on"],
    )
    record = ScreeningRecord(
        woman_id=woman.id, source=source, sender=sender, external_id=external_id, **fields
    )
    record.plan_id = plan_id if plan_id is not None else find_plan(session, woman, fields["screened_on"].year)
    place_like(record, woman)
    session.add(record)
    session.flush()
    ensure_follow_up(session, principal, record)
    return record


def create_record_from(session: Session, principal: Principal, data: RecordCreate) -> ScreeningRecord:
    woman = get_scoped(session, Woman, data.woman_id, principal)
    if data.plan_id is not None:
        get_scoped(session, ScreeningPlan, data.plan_id, principal)
    sender = principal.subject if data.external_id else None
    if (
        data.external_id
        and session.exec(
            select(ScreeningRecord.id).where(
                ScreeningRecord.sender == sender, ScreeningRecord.external_id == data.external_id
            )
        ).first()
    ):
        raise Conflict(
            "这个外部编号已经用过",
            errors=[{"field": "external_id", "loc": ["external_id"], "message": "外部编号已存在"}],
        )
    return create_record(
        session,
        principal,
        woman,
        record_fields(data),
        plan_id=data.plan_id,
        sender=sender,
        external_id=data.external_id,
    )


def update_record(
    session: Session, principal: Principal, record: ScreeningRecord, changes: dict[str, Any]
) -> bool:
    """Apply changes after re-checking the whole result; True when anything changed."""
    for required in ("kind", "screened_on", "result"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(required, "此项不能为空")
    if changes.get("plan_id") is not None:
        get_scoped(session, ScreeningPlan, changes["plan_id"], principal)
    merged = {
        k: changes.get(k, getattr(record, k))
        for k in ("kind", "method", "result", "tbs", "birads", "screened_on")
    }
    check_result(
        merged["kind"],
        merged["method"],
        merged["result"],
        merged["tbs"],
        merged["birads"],
        merged["screened_on"],
    )
    changed = False
    for key, value in changes.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    if changed:
        record.updated_at = utcnow()
        session.flush()
        ensure_follow_up(session, principal, record)
    return changed


def ensure_follow_up(session: Session, principal: Principal, record: ScreeningRecord) -> FollowUp | None:
    """Every abnormal or suspected result gets one follow-up, due for notice within a day."""
    if record.result == ScreeningResult.normal:
        return None
    existing = session.exec(select(FollowUp).where(FollowUp.record_id == record.id)).first()
    if existing is not None:
        return existing
    fu = FollowUp(
        record_id=record.id,
        woman_id=record.woman_id,
        kind=record.kind,
        notice_due_on=today_in_china() + timedelta(days=screening_settings().notice_days),
    )
    place_like(fu, record)
    session.add(fu)
    session.flush()
    record_event(session, "screening.abnormal", fu.branch_id, abnormal_event_data(fu.id, record))
    return fu


def abnormal_event_data(follow_up_id: int, record: Any) -> dict[str, Any]:
    get = record.get if isinstance(record, dict) else lambda key: getattr(record, key)
    return {
        "record_id": get("id"),
        "follow_up_id": follow_up_id,
        "woman_id": get("woman_id"),
        "kind": get("kind"),
        "result": get("result"),
        "screened_on": str(get("screened_on")),
    }


def soft_delete_record(session: Session, record: ScreeningRecord) -> None:
    fu = session.exec(select(FollowUp).where(FollowUp.record_id == record.id)).first()
    if fu is not None and fu.status != FollowUpStatus.pending_notice:
        raise Conflict("这条结果已经在随访中,不能删除")
    if fu is not None:
        session.delete(fu)
    record.soft_delete()
    session.flush()


# ---- batch (health bureau API and Excel import share this)


class RowCache:
    """Per-batch lookups that do not change between rows."""

    def __init__(self) -> None:
        self.branches: dict[int, Branch | AppError] = {}
        self.plans: dict[tuple[int, int], int | None] = {}


def first_error(exc: ValidationError) -> tuple[str, str]:
    err = validation_errors(list(exc.errors()))[0]
    return err["field"], f"{err['field']}:{err['message']}" if err["field"] else err["message"]


def apply_row(
    session: Session,
    principal: Principal,
    raw: dict[str, Any],
    *,
    sender: str,
    source: ScreeningSource,
    cache: RowCache,
    row_model: type[BatchRow] = BatchRow,
) -> dict[str, Any]:
    """One result applied on its own (savepoint): created, updated, unchanged, or the error, by external id."""
    external_id = raw.get("external_id")
    item: dict[str, Any] = {"external_id": str(external_id) if external_id is not None else None}
    try:
        row = row_model.model_validate(raw)
    except ValidationError as exc:
        field, message = first_error(exc)
        return {**item, "outcome": "error", "error": message, "field": field}
    fields = record_fields(row)
    try:
        check_result(row.kind, row.method, row.result, row.tbs, row.birads, row.screened_on)
        with session.begin_nested():
            woman = _woman_for_row(session, principal, row, cache)
            record = None
            if row.external_id:
                record = session.exec(
                    select(ScreeningRecord).where(
                        ScreeningRecord.sender == sender, ScreeningRecord.external_id == row.external_id
                    )
                ).first()
            if record is not None:
                if record.woman_id != woman.id:
                    raise ValidationFailed("id_number", "这个外部编号已用于另一位妇女,身份证号与原记录不符")
                if record.deleted_at is not None:
                    raise Conflict("这条记录已被删除")
                changed = update_record(session, principal, record, fields)
                return {**item, "outcome": "updated" if changed else "unchanged", "id": record.id}
            key = (woman.branch_id, row.screened_on.year)
            if key not in cache.plans:
                cache.plans[key] = find_plan(session, woman, row.screened_on.year)
            record = create_record(
                session,
                principal,
                woman,
                fields,
                plan_id=cache.plans[key],
                source=source,
                sender=sender,
                external_id=row.external_id,
            )
            return {**item, "outcome": "created", "id": record.id}
    except AppError as exc:
        field = exc.errors[0]["field"] if exc.errors else None
        return {**item, "outcome": "error", "error": exc.detail, "field": field}
    except sa.exc.IntegrityError:
        return {**item, "outcome": "error", "error": "与已有数据重复(可能同时提交了相同的记录),请重试"}


def _woman_for_row(session: Session, principal: Principal, row: BatchRow, cache: RowCache) -> Woman:
    digests = id_number_hashes(row.id_number)
    woman = session.exec(scoped(select(Woman).where(Woman.id_number_hash.in_(digests)), principal)).first()
    if woman is not None:
        return woman
    if session.exec(select(Woman.id).where(Woman.id_number_hash.in_(digests))).first() is not None:
        raise ValidationFailed("id_number", "该妇女登记在本单位管辖范围之外(或已删除),请联系上级妇联")
    if row.branch_id is None:
        raise ValidationFailed("branch_id", "新登记的妇女须填写所在村(社区)")
    branch = cache.branches.get(row.branch_id)
    if branch is None:
        try:
            branch = get_scoped(session, Branch, row.branch_id, principal)
        except AppError as exc:
            branch = exc
        cache.branches[row.branch_id] = branch
    if isinstance(branch, AppError):
        raise ValidationFailed("branch_id", "所在组织不存在或不在本单位管辖范围内")
    id_number, born = parse_id_number(row.id_number)
    woman = Woman(name=row.name.strip(), birth_date=born, **pii_columns(id_number, row.phone))
    woman.place_in(branch)
    session.add(woman)
    session.flush()
    return woman


def apply_batch(session: Session, principal: Principal, rows: list[dict[str, Any]]) -> dict[str, Any]:
    cache = RowCache()
    seen: set[str] = set()
    items = []
    for n, raw in enumerate(rows, start=1):
        if not isinstance(raw, dict):
            items.append({"row": n, "external_id": None, "outcome": "error", "error": "每一行应为对象"})
            continue
        ext = raw.get("external_id")
        if isinstance(ext, str) and ext in seen:
            items.append(
                {
                    "row": n,
                    "external_id": ext,
                    "outcome": "error",
                    "field": "external_id",
                    "error": "同一批次中外部编号重复",
                }
            )
            continue
        if isinstance(ext, str):
            seen.add(ext)
        items.append(
            {
                "row": n,
                **apply_row(
                    session, principal, raw, sender=principal.subject, source=ScreeningSource.api, cache=cache
                ),
            }
        )
    counts = {
        k: sum(1 for i in items if i["outcome"] == k) for k in ("created", "updated", "unchanged", "error")
    }
    return {
        "items": items,
        "created": counts["created"],
        "updated": counts["updated"],
        "unchanged": counts["unchanged"],
        "errors": counts["error"],
    }


# ---- follow-ups


def overdue_condition(today: date):
    return sa.or_(
        sa.and_(FollowUp.status == FollowUpStatus.pending_notice, FollowUp.notice_due_on < today),
        sa.and_(FollowUp.status == FollowUpStatus.notified, FollowUp.recheck_due_on < today),
    )


def due_on(fu: FollowUp) -> date | None:
    if fu.status == FollowUpStatus.pending_notice:
        return fu.notice_due_on
    if fu.status == FollowUpStatus.notified:
        return fu.recheck_due_on
    return None


def is_overdue(fu: FollowUp, today: date | None = None) -> bool:
    due = due_on(fu)
    return due is not None and due < (today or today_in_china())


def flag_overdue(session: Session, today: date | None = None) -> int:
    """Mark follow-ups that just passed their deadline (idempotent: already flagged ones are left alone)."""
    due = session.execute(
        select(
            FollowUp.id,
            FollowUp.branch_id,
            FollowUp.record_id,
            FollowUp.woman_id,
            FollowUp.kind,
            FollowUp.status,
        ).where(overdue_condition(today or today_in_china()), FollowUp.overdue_flagged_at.is_(None))
    ).all()
    if not due:
        return 0
    session.execute(
        sa.update(FollowUp)
        .where(FollowUp.id.in_([row.id for row in due]))
        .values(overdue_flagged_at=utcnow())
    )
    for row in due:
        record_event(
            session,
            "followup.overdue",
            row.branch_id,
            {
                "follow_up_id": row.id,
                "record_id": row.record_id,
                "woman_id": row.woman_id,
                "kind": row.kind,
                "status": row.status,
            },
        )
    return len(due)


# ---- figures


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _topmost_target(plans: list) -> int:
    """The target of plans of one or more years: for each year, only the topmost plans are added up (a
    township's target already counts its villages)."""
    total = 0
    for year in {p.year for p in plans}:
        of_year = [p for p in plans if p.year == year]
        paths = [p.path for p in of_year]
        total += sum(
            p.target_count for p in of_year if not any(o != p.path and p.path.startswith(o) for o in paths)
        )
    return total


def _by_child(session: Session, root: Branch, period: Period, plans: list) -> list[dict[str, Any]]:
    """The same main figures for each branch directly below, for the report by unit."""
    child_col = f"a{root.depth + 1}"
    kids = session.execute(
        sa.select(Branch.id, Branch.name)
        .where(Branch.parent_id == root.id, Branch.deleted_at.is_(None))
        .order_by(Branch.code, Branch.id)
    ).all()
    if not kids:
        return []
    rec, fu = ScreeningRecord, FollowUp
    in_period = [
        subtree_filter(rec, root.id, root.depth),
        period.covers_day(rec.screened_on),
        rec.deleted_at.is_(None),
    ]
    screened = dict(
        session.execute(
            sa.select(getattr(rec, child_col), sa.func.count(sa.distinct(rec.woman_id)))
            .where(*in_period)
            .group_by(getattr(rec, child_col))
        ).all()
    )
    abnormal = dict(
        session.execute(
            sa.select(getattr(rec, child_col), sa.func.count())
            .where(*in_period, rec.result != ScreeningResult.normal)
            .group_by(getattr(rec, child_col))
        ).all()
    )
    lost = dict(
        session.execute(
            sa.select(getattr(fu, child_col), sa.func.count())
            .join(rec, rec.id == fu.record_id)
            .where(*in_period, fu.status == FollowUpStatus.lost)
            .group_by(getattr(fu, child_col))
        ).all()
    )
    out = []
    for kid_id, name in kids:
        target = _topmost_target([p for p in plans if getattr(p, child_col) == kid_id])
        n = screened.get(kid_id, 0)
        out.append(
            {
                "branch_id": kid_id,
                "name": name,
                "target": target,
                "screened": n,
                "coverage": _rate(n, target),
                "coverage_above_target": bool(target) and n > target,
                "abnormal": abnormal.get(kid_id, 0),
                "lost": lost.get(kid_id, 0),
            }
        )
    return out


def stats(session: Session, root: Branch, period: Period) -> dict[str, Any]:
    """Every figure counted from rows for one subtree and one period.

    Records count when screened in the period; follow-ups and paid aid when their record does. Plans are annual:
    the target is the sum of the plans of every year the period touches.
    """
    years = list(range(period.start.year, period.end.year + 1))
    plans = session.execute(
        sa.select(
            ScreeningPlan.year,
            ScreeningPlan.target_count,
            Branch.path,
            *(getattr(ScreeningPlan, a) for a in ANCESTOR_COLUMNS),
        )
        .join(Branch, Branch.id == ScreeningPlan.branch_id)
        .where(
            subtree_filter(ScreeningPlan, root.id, root.depth),
            ScreeningPlan.year.in_(years),
            ScreeningPlan.deleted_at.is_(None),
        )
    ).all()
    target = _topmost_target(plans)

    rec = ScreeningRecord
    in_scope = [
        subtree_filter(rec, root.id, root.depth),
        period.covers_day(rec.screened_on),
        rec.deleted_at.is_(None),
    ]
    screened = session.execute(
        sa.select(sa.func.count(sa.distinct(rec.woman_id))).where(*in_scope)
    ).scalar_one()
    abnormal = sa.case((rec.result != ScreeningResult.normal, 1), else_=0)
    by_kind_rows = session.execute(
        sa.select(rec.kind, sa.func.count(), sa.func.count(sa.distinct(rec.woman_id)), sa.func.sum(abnormal))
        .where(*in_scope)
        .group_by(rec.kind)
    ).all()

    fu = FollowUp
    fu_scope = [
        subtree_filter(fu, root.id, root.depth),
        period.covers_day(rec.screened_on),
        rec.deleted_at.is_(None),
    ]
    fu_rows = session.execute(
        sa.select(fu.kind, fu.status, fu.diagnosis, sa.func.count())
        .join(rec, rec.id == fu.record_id)
        .where(*fu_scope)
        .group_by(fu.kind, fu.status, fu.diagnosis)
    ).all()
    overdue = session.execute(
        sa.select(sa.func.count())
        .select_from(fu)
        .join(rec, rec.id == fu.record_id)
        .where(*fu_scope, overdue_condition(today_in_china()))
    ).scalar_one()

    by_status = {s.value: 0 for s in FollowUpStatus}
    cancers = {k.value: 0 for k in ScreeningKind}
    for kind, status, diagnosis, n in fu_rows:
        by_status[status] += n
        if diagnosis == Diagnosis.cancer and status != FollowUpStatus.lost:
            cancers[kind] += n
    total_fu = sum(by_status.values())
    rechecked = sum(by_status[s] for s in ("rechecked", "diagnosed", "treated", "closed"))

    by_kind = {
        k.value: {
            "records": 0,
            "women": 0,
            "abnormal": 0,
            "abnormal_rate": None,
            "confirmed_cancers": cancers[k.value],
        }
        for k in ScreeningKind
    }
    for kind, n, women, n_abnormal in by_kind_rows:
        by_kind[kind].update(
            records=n,
            women=women,
            abnormal=int(n_abnormal or 0),
            abnormal_rate=_rate(int(n_abnormal or 0), n),
        )

    aid = AidApplication
    paid = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(aid.amount), 0))
        .select_from(aid)
        .join(fu, fu.id == aid.follow_up_id)
        .join(rec, rec.id == fu.record_id)
        .where(
            subtree_filter(aid, root.id, root.depth),
            aid.status == AidStatus.paid,
            aid.deleted_at.is_(None),
            period.covers_day(rec.screened_on),
        )
    ).one()

    coverage = _rate(screened, target)
    children = _by_child(session, root, period, plans) if root.depth < len(ANCESTOR_COLUMNS) else []
    return {
        "children": children,
        "branch_id": root.id,
        "period": period.out(),
        "plan_years": years,
        "target": target,
        "screened": screened,
        "coverage": coverage,
        "coverage_above_target": bool(target) and screened > target,
        "by_kind": by_kind,
        "follow_up": {
            "total": total_fu,
            "by_status": by_status,
            "completed": by_status["closed"],
            "completion_rate": _rate(by_status["closed"], total_fu),
            "rechecked": rechecked,
            "recheck_rate": _rate(rechecked, total_fu),
            "lost": by_status["lost"],
            "lost_rate": _rate(by_status["lost"], total_fu),
            "overdue": overdue,
        },
        "confirmed_cancers": sum(cancers.values()),
        "aid_paid_count": paid[0],
        "aid_paid_amount": Decimal(paid[1]).quantize(Decimal("0.01")),
    }
