"""The Excel imports' fast path: a chunk of rows validated in Python, then written with a few Core statements.

The bureau's batch API applies rows one by one (a savepoint each); a 10,000-row file would take a minute that
way, so an import validates every row first, looks up existing women and records in one query each, and inserts
the new women, records and follow-ups (and their audit entries) in bulk. If the bulk write of a chunk still
meets a conflict (someone registered the same woman meanwhile), the chunk is redone row by row.
"""

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from backend.branches.models import Branch
from backend.core.audit_models import AuditLog
from backend.core.clock import today_in_china
from backend.core.db import insert_ids, utcnow
from backend.core.errors import AppError, Conflict, ValidationFailed
from backend.core.scope import ANCESTOR_COLUMNS, Principal, get_scoped, scoped
from backend.core.security import rotating
from backend.integrations.service import record_event
from backend.screenings import service
from backend.screenings.idcard import parse_id_number
from backend.screenings.models import (
    FollowUp,
    FollowUpStatus,
    HardshipStatus,
    ScreeningRecord,
    ScreeningResult,
    ScreeningSource,
    Woman,
)

_PLACE = ("branch_id", *ANCESTOR_COLUMNS)
Outcome = tuple[int, str, str | None]  # row number, outcome, error


class ImportState:
    """What stays true across the chunks of one file."""

    def __init__(self) -> None:
        self.cache = service.RowCache()
        self.external_ids: set[str] = set()


def _error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return service.first_error(exc)[1]
    if isinstance(exc, AppError):
        field = exc.errors[0]["field"] if exc.errors else None
        return f"{field}:{exc.detail}" if field else exc.detail
    return str(exc)


def _branch(session, principal: Principal, branch_id: int | None, state: ImportState) -> Branch:
    if branch_id is None:
        raise ValidationFailed("branch_id", "新登记的妇女须填写所在村(社区)")
    cached = state.cache.branches.get(branch_id)
    if cached is None:
        try:
            cached = get_scoped(session, Branch, branch_id, principal)
        except AppError as exc:
            cached = exc
        state.cache.branches[branch_id] = cached
    if isinstance(cached, AppError):
        raise ValidationFailed("branch_id", "所在组织不存在或不在您的管辖范围内")
    return cached


def _audit(
    session, principal: Principal, entity: str, rows: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    now = utcnow()
    session.execute(
        sa.insert(AuditLog),
        [
            {
                "at": now,
                "actor": principal.subject,
                "actor_name": principal.name,
                "action": "create",
                "entity": entity,
                "entity_id": str(r["id"]),
                "field": None,
                "before": None,
                "ip": None,
                "after": {k: service.jsonable(r.get(k)) for k in keys},
                **{k: r[k] for k in _PLACE},
            }
            for r in rows
        ],
    )


def _existing_women(
    session, principal: Principal, numbers: dict[str, str]
) -> tuple[dict[str, dict], set[str]]:
    """Women already registered: those in scope (with their placement), and the hashes registered elsewhere.

    `numbers` maps each row's current-key hash to its ID number; mid-rotation a stored row may still hold the
    hash under an old key, which is looked up too and answered under the current one."""
    if not numbers:
        return {}, set()
    current = {h: h for h in numbers}
    if rotating():
        current.update({old: h for h, number in numbers.items() for old in service.id_number_hashes(number)})
    cols = [Woman.id, Woman.id_number_hash, *(getattr(Woman, k) for k in _PLACE)]
    mine = {
        current[r.id_number_hash]: dict(r._mapping)
        for r in session.execute(
            scoped(sa.select(*cols).where(Woman.id_number_hash.in_(current)), principal, Woman)
        )
    }
    elsewhere = {
        current[h]
        for h in session.execute(
            sa.select(Woman.id_number_hash).where(
                Woman.id_number_hash.in_([k for k, h in current.items() if h not in mine])
            )
        ).scalars()
    }
    return mine, elsewhere


def _new_woman(row: BaseModel, branch: Branch, now) -> dict[str, Any]:
    number, born = parse_id_number(row.id_number)
    values = {
        "name": row.name.strip(),
        "birth_date": born,
        "hardship_status": HardshipStatus.none.value,
        "hardship_verified_by": None,
        "hardship_verified_at": None,
        "deleted_at": None,
        "created_at": now,
        "updated_at": now,
        "branch_id": branch.id,
        **{a: getattr(branch, a) for a in ANCESTOR_COLUMNS},
        **service.pii_columns(number, row.phone),
    }
    return values


WOMAN_AUDIT = ("name", "id_number_masked", "phone_masked", "birth_date", "hardship_status")
RECORD_AUDIT = (
    "woman_id",
    "plan_id",
    "kind",
    "screened_on",
    "institution",
    "method",
    "result",
    "tbs",
    "birads",
    "consent",
    "source",
    "external_id",
)
FOLLOW_UP_AUDIT = ("record_id", "woman_id", "kind", "status", "notice_due_on")


def _write_women(session, principal: Principal, new: dict[str, dict]) -> None:
    rows = list(new.values())
    for row, new_id in zip(rows, insert_ids(session, Woman, rows), strict=True):
        row["id"] = new_id
    if rows:
        _audit(session, principal, "woman", rows, WOMAN_AUDIT)


def import_women_chunk(
    session,
    principal: Principal,
    items: list[tuple[int, dict]],
    default_branch: int | None,
    state: ImportState,
    row_model: type[BaseModel],
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    parsed = []
    for n, raw in items:
        try:
            row = row_model.model_validate({k: raw.get(k) for k in ("name", "id_number", "phone")})
            branch = _branch(session, principal, raw.get("branch_id") or default_branch, state)
            parsed.append((n, row, branch, service.id_number_hash(row.id_number)))
        except (ValidationError, AppError, ValueError) as exc:
            outcomes.append((n, "error", _error(exc)))
    mine, elsewhere = _existing_women(session, principal, {p[3]: p[1].id_number for p in parsed})
    now = utcnow()
    new: dict[str, dict] = {}
    for n, row, branch, digest in parsed:
        if digest in mine or digest in new:
            outcomes.append((n, "error", "身份证号:该身份证号已登记"))
        elif digest in elsewhere:
            outcomes.append((n, "error", "身份证号:该身份证号已登记(登记在其他单位,请联系上级妇联核对)"))
        else:
            new[digest] = _new_woman(row, branch, now)
            outcomes.append((n, "created", None))
    _write_women(session, principal, new)
    return outcomes


def import_results_chunk(
    session,
    principal: Principal,
    items: list[tuple[int, dict]],
    *,
    sender: str,
    state: ImportState,
    row_model: type[BaseModel],
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    parsed = []
    for n, raw in items:
        try:
            row = row_model.model_validate(raw)
            service.check_result(row.kind, row.method, row.result, row.tbs, row.birads, row.screened_on)
            if row.external_id:
                if row.external_id in state.external_ids:
                    raise ValidationFailed("external_id", "文件中外部编号重复")
                state.external_ids.add(row.external_id)
            parsed.append((n, row, service.id_number_hash(row.id_number)))
        except (ValidationError, AppError, ValueError) as exc:
            outcomes.append((n, "error", _error(exc)))

    mine, elsewhere = _existing_women(session, principal, {p[2]: p[1].id_number for p in parsed})
    ext_ids = [row.external_id for _, row, _ in parsed if row.external_id]
    existing_records = (
        {
            r.external_id: r
            for r in session.scalars(
                sa.select(ScreeningRecord).where(
                    ScreeningRecord.sender == sender, ScreeningRecord.external_id.in_(ext_ids)
                )
            )
        }
        if ext_ids
        else {}
    )

    now = utcnow()
    new_women: dict[str, dict] = {}
    to_create: list[tuple[int, BaseModel, str]] = []
    for n, row, digest in parsed:
        try:
            if digest in elsewhere:
                raise ValidationFailed("id_number", "该妇女登记在本单位管辖范围之外(或已删除),请联系上级妇联")
            if digest not in mine and digest not in new_women:
                new_women[digest] = _new_woman(row, _branch(session, principal, row.branch_id, state), now)
            record = existing_records.get(row.external_id) if row.external_id else None
            if record is None:
                to_create.append((n, row, digest))
                continue
            woman = mine.get(digest)
            if woman is None or record.woman_id != woman["id"]:
                raise ValidationFailed("id_number", "这个外部编号已用于另一位妇女,身份证号与原记录不符")
            if record.deleted_at is not None:
                raise Conflict("这条记录已被删除")
            fields = service.record_fields(row)
            if all(getattr(record, k) == v for k, v in fields.items()):
                outcomes.append((n, "unchanged", None))
                continue
            with session.begin_nested():
                changed = service.update_record(session, principal, record, fields)
            outcomes.append((n, "updated" if changed else "unchanged", None))
        except (AppError, ValueError) as exc:
            outcomes.append((n, "error", _error(exc)))

    _write_women(session, principal, new_women)
    women = {**mine, **new_women}
    today = today_in_china()
    notice_due = today + timedelta(days=service.screening_settings().notice_days)
    records = []
    for _, row, digest in to_create:
        woman = women[digest]
        key = (woman["branch_id"], row.screened_on.year)
        if key not in state.cache.plans:
            state.cache.plans[key] = service.find_plan(session, _Placed(woman), row.screened_on.year)
        records.append(
            {
                **service.record_fields(row),
                "woman_id": woman["id"],
                "plan_id": state.cache.plans[key],
                "source": ScreeningSource.import_.value,
                "sender": sender,
                "external_id": row.external_id,
                "deleted_at": None,
                "created_at": now,
                "updated_at": now,
                **{k: woman[k] for k in _PLACE},
            }
        )
    for record, new_id in zip(records, insert_ids(session, ScreeningRecord, records), strict=True):
        record["id"] = new_id
    follow_ups = [
        {
            "record_id": r["id"],
            "woman_id": r["woman_id"],
            "kind": r["kind"],
            "status": FollowUpStatus.pending_notice.value,
            "notice_due_on": notice_due,
            "visit_count": 0,
            "created_at": now,
            "updated_at": now,
            **{k: r[k] for k in _PLACE},
        }
        for r in records
        if r["result"] != ScreeningResult.normal
    ]
    for fu, new_id in zip(follow_ups, insert_ids(session, FollowUp, follow_ups), strict=True):
        fu["id"] = new_id
    by_id = {r["id"]: r for r in records}
    for fu in follow_ups:
        record_event(
            session,
            "screening.abnormal",
            fu["branch_id"],
            service.abnormal_event_data(fu["id"], by_id[fu["record_id"]]),
        )
    if records:
        _audit(session, principal, "screening_record", records, RECORD_AUDIT)
    if follow_ups:
        _audit(session, principal, "follow_up", follow_ups, FOLLOW_UP_AUDIT)
    outcomes += [(n, "created", None) for n, _, _ in to_create]
    return sorted(outcomes)


class _Placed:
    """A placement dict seen as a row (find_plan reads a1…a8)."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)
