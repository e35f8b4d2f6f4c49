"""两癌 screening rules: the register, results and their contradictions, follow-up steps, aid. No HTTP here."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Session, select

from backend.branches.models import Branch
from backend.core.db import is_unique_violation, utcnow
from backend.core.errors import AppError, Conflict, InvalidTransition, ValidationFailed, validation_errors
from backend.core.paging import CHINA_TZ, today_in_china
from backend.core.scope import ANCESTOR_COLUMNS, Principal, get_scoped, scoped
from backend.core.security import blind_index, blind_indexes, encrypt_field, mask_id_number, mask_phone
from backend.integrations.service import record_event
from backend.screenings.idcard import parse_id_number
from backend.screenings.models import (
    METHODS_BY_KIND,
    OPEN_FOLLOW_UP,
    AidApplication,
    AidStatus,
    Diagnosis,
    FollowUp,
    FollowUpEvent,
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
    AidCreate,
    BatchRow,
    PlanCreate,
    PlanUpdate,
    RecordCreate,
    WomanCreate,
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


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()


def place_like(target: Any, source: Any) -> None:
    """Put a row in the same branch as another row (a record goes where the woman is registered)."""
    target.branch_id = source.branch_id
    for name in ANCESTOR_COLUMNS:
        setattr(target, name, getattr(source, name))


# ---- women


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
    woman.deleted_at = utcnow()
    session.flush()


# ---- plans


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
    record.deleted_at = utcnow()
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


# action → (states it may start from, state it leads to; None keeps the state)
TRANSITIONS: dict[str, tuple[tuple[FollowUpStatus, ...], FollowUpStatus | None]] = {
    "notify": ((FollowUpStatus.pending_notice,), FollowUpStatus.notified),
    "recheck": ((FollowUpStatus.notified,), FollowUpStatus.rechecked),
    "diagnose": ((FollowUpStatus.rechecked,), FollowUpStatus.diagnosed),
    "treat": ((FollowUpStatus.diagnosed,), FollowUpStatus.treated),
    "close": (
        (FollowUpStatus.rechecked, FollowUpStatus.diagnosed, FollowUpStatus.treated),
        FollowUpStatus.closed,
    ),
    "lose": (OPEN_FOLLOW_UP, FollowUpStatus.lost),
    "visit": (OPEN_FOLLOW_UP, None),
}
ACTION_NAMES = {
    "notify": "告知",
    "recheck": "复查",
    "diagnose": "确诊",
    "treat": "治疗",
    "close": "结案",
    "lose": "失访",
    "visit": "走访",
}


def allowed_actions(fu: FollowUp) -> list[str]:
    allowed = [a for a, (sources, _) in TRANSITIONS.items() if fu.status in sources]
    # Precancer and cancer need treatment before the case is closed.
    if fu.status == FollowUpStatus.diagnosed and fu.diagnosis != Diagnosis.benign:
        allowed.remove("close")
    return allowed


def _not_future(field: str, value: date | datetime | None) -> None:
    if value is None:
        return
    day = china_date(value) if isinstance(value, datetime) else value
    if day > today_in_china():
        raise ValidationFailed(field, "日期不能晚于今天")


def act(session: Session, principal: Principal, fu: FollowUp, action: str, body: Any) -> FollowUp:
    allowed = allowed_actions(fu)
    if action not in allowed:
        raise InvalidTransition(f"随访当前状态下不能「{ACTION_NAMES[action]}」", allowed=allowed)
    now = utcnow()
    today = today_in_china()
    data: dict[str, Any] = {}
    if action == "notify":
        _not_future("notified_at", body.notified_at)
        fu.notified_at = body.notified_at or now
        fu.notified_by = body.notified_by or principal.name
        fu.notice_method = body.method
        fu.recheck_due_on = china_date(fu.notified_at) + timedelta(days=screening_settings().recheck_days)
        data = {"method": body.method.value, "by": fu.notified_by, "at": fu.notified_at.isoformat()}
    elif action == "recheck":
        _not_future("rechecked_on", body.rechecked_on)
        fu.rechecked_on = body.rechecked_on or today
        fu.recheck_institution, fu.recheck_result = body.institution, body.result
        data = {"on": fu.rechecked_on.isoformat(), "institution": body.institution, "result": body.result}
    elif action == "diagnose":
        _not_future("diagnosed_on", body.diagnosed_on)
        fu.diagnosis, fu.diagnosed_on = body.diagnosis, body.diagnosed_on or today
        data = {"diagnosis": body.diagnosis.value, "on": fu.diagnosed_on.isoformat()}
    elif action == "treat":
        _not_future("treated_on", body.treated_on)
        fu.treated_on, fu.treatment = body.treated_on or today, body.treatment
        data = {"on": fu.treated_on.isoformat(), "treatment": body.treatment}
    elif action == "close":
        fu.closed_at = now
    elif action == "lose":
        fu.lost_at, fu.lost_reason = now, body.reason
        data = {"reason": body.reason}
    elif action == "visit":
        _not_future("visited_at", body.visited_at)
        fu.visit_count += 1
        fu.last_visit_at = body.visited_at or now
        data = {"reached": body.reached, "at": fu.last_visit_at.isoformat()}
    target = TRANSITIONS[action][1]
    if target is not None:
        fu.status = target
        fu.overdue_flagged_at = None
    note = getattr(body, "note", None)
    if note:
        fu.note = note
    fu.updated_at = now
    session.add(
        FollowUpEvent(
            follow_up_id=fu.id,
            action=action,
            actor=principal.subject,
            actor_name=principal.name,
            note=note,
            data=data,
        )
    )
    if action == "close":
        record_event(
            session,
            "followup.closed",
            fu.branch_id,
            {
                "follow_up_id": fu.id,
                "record_id": fu.record_id,
                "woman_id": fu.woman_id,
                "kind": fu.kind,
                "diagnosis": fu.diagnosis,
            },
        )
    session.flush()
    return fu


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


# ---- aid


def create_aid(session: Session, principal: Principal, data: AidCreate) -> AidApplication:
    fu = get_scoped(session, FollowUp, data.follow_up_id, principal)
    if fu.diagnosis != Diagnosis.cancer:
        raise ValidationFailed("follow_up_id", "只有确诊为癌症的妇女可以申请两癌救助")
    if fu.status == FollowUpStatus.lost:
        raise ValidationFailed("follow_up_id", "该随访已失访,请先核实情况")
    open_app = session.exec(
        select(AidApplication.id).where(
            AidApplication.follow_up_id == fu.id,
            AidApplication.status != AidStatus.rejected,
            AidApplication.deleted_at.is_(None),
        )
    ).first()
    if open_app is not None:
        raise Conflict("她已有一份未驳回的救助申请", aid_application_id=open_app)
    app = AidApplication(
        woman_id=fu.woman_id,
        follow_up_id=fu.id,
        diagnosis=Diagnosis.cancer,
        amount=data.amount,
        documents=list(data.documents),
        note=data.note,
        submitted_by=principal.name,
    )
    place_like(app, fu)
    session.add(app)
    session.flush()
    record_event(session, "aid.submitted", app.branch_id, _aid_event_data(app))
    return app


def _aid_event_data(app: AidApplication) -> dict[str, Any]:
    return {
        "aid_application_id": app.id,
        "follow_up_id": app.follow_up_id,
        "woman_id": app.woman_id,
        "status": app.status,
        "amount": str(app.amount) if app.amount is not None else None,
    }


AID_TRANSITIONS: dict[str, tuple[tuple[AidStatus, ...], AidStatus]] = {
    "verify": ((AidStatus.submitted,), AidStatus.verified),
    "approve": ((AidStatus.verified,), AidStatus.approved),
    "pay": ((AidStatus.approved,), AidStatus.paid),
    "reject": ((AidStatus.submitted, AidStatus.verified, AidStatus.approved), AidStatus.rejected),
}
AID_ACTION_NAMES = {"verify": "核实", "approve": "批准", "pay": "发放", "reject": "驳回"}


def aid_allowed(app: AidApplication) -> list[str]:
    return [a for a, (sources, _) in AID_TRANSITIONS.items() if app.status in sources]


def aid_act(
    session: Session, principal: Principal, app: AidApplication, action: str, body: Any
) -> AidApplication:
    allowed = aid_allowed(app)
    if action not in allowed:
        raise InvalidTransition(f"救助申请当前状态下不能「{AID_ACTION_NAMES[action]}」", allowed=allowed)
    now = utcnow()
    if action == "verify":
        app.verified_hardship, app.verification_note = body.hardship_status, body.note
        app.verified_by, app.verified_at = principal.name, now
        woman = session.get(Woman, app.woman_id)
        set_hardship(woman, body.hardship_status, principal.name)
    elif action == "approve":
        if app.verified_hardship not in (HardshipStatus.dibao, HardshipStatus.tekun):
            raise InvalidTransition("民政核实她不属于低保或特困,不能批准,请驳回", allowed=["reject"])
        app.approved_by, app.approved_at = principal.name, now
    elif action == "pay":
        _not_future("paid_at", body.paid_at)
        app.paid_by, app.paid_at, app.payment_reference = (
            principal.name,
            body.paid_at or now,
            body.payment_reference,
        )
    elif action == "reject":
        app.rejected_by, app.rejected_at, app.rejected_reason = principal.name, now, body.reason
    app.status = AID_TRANSITIONS[action][1]
    app.updated_at = now
    session.flush()
    record_event(session, f"aid.{app.status}", app.branch_id, _aid_event_data(app))
    return app


# ---- figures


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _topmost_target(plans: list) -> int:
    # A township's target already counts its villages: only the topmost plans are added up.
    paths = [p.path for p in plans]
    return sum(p.target_count for p in plans if not any(o != p.path and p.path.startswith(o) for o in paths))


def _by_child(session: Session, root: Branch, year: int, plans: list) -> list[dict[str, Any]]:
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
    period = [
        getattr(rec, f"a{root.depth}") == root.id,
        rec.screened_on >= date(year, 1, 1),
        rec.screened_on < date(year + 1, 1, 1),
        rec.deleted_at.is_(None),
    ]
    screened = dict(
        session.execute(
            sa.select(getattr(rec, child_col), sa.func.count(sa.distinct(rec.woman_id)))
            .where(*period)
            .group_by(getattr(rec, child_col))
        ).all()
    )
    abnormal = dict(
        session.execute(
            sa.select(getattr(rec, child_col), sa.func.count())
            .where(*period, rec.result != ScreeningResult.normal)
            .group_by(getattr(rec, child_col))
        ).all()
    )
    lost = dict(
        session.execute(
            sa.select(getattr(fu, child_col), sa.func.count())
            .join(rec, rec.id == fu.record_id)
            .where(*period, fu.status == FollowUpStatus.lost)
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


def stats(session: Session, root: Branch, year: int) -> dict[str, Any]:
    """Every figure counted from rows for one subtree and one year (screening date in that year)."""
    col = f"a{root.depth}"
    start, end = date(year, 1, 1), date(year + 1, 1, 1)

    plans = session.execute(
        sa.select(
            ScreeningPlan.target_count, Branch.path, *(getattr(ScreeningPlan, a) for a in ANCESTOR_COLUMNS)
        )
        .join(Branch, Branch.id == ScreeningPlan.branch_id)
        .where(
            getattr(ScreeningPlan, col) == root.id,
            ScreeningPlan.year == year,
            ScreeningPlan.deleted_at.is_(None),
        )
    ).all()
    # A township's target already counts its villages: only the topmost plans are added up.
    target = _topmost_target(plans)

    rec = ScreeningRecord
    in_scope = [
        getattr(rec, col) == root.id,
        rec.screened_on >= start,
        rec.screened_on < end,
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
        getattr(fu, col) == root.id,
        rec.screened_on >= start,
        rec.screened_on < end,
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
            getattr(aid, col) == root.id,
            aid.status == AidStatus.paid,
            aid.deleted_at.is_(None),
            rec.screened_on >= start,
            rec.screened_on < end,
        )
    ).one()

    coverage = _rate(screened, target)
    children = _by_child(session, root, year, plans) if root.depth < len(ANCESTOR_COLUMNS) else []
    return {
        "children": children,
        "branch_id": root.id,
        "year": year,
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
