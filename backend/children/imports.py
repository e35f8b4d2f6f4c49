"""A village's list of children (摸底名册) imported from Excel as a job, through the shared import mechanism.

A chunk is validated row by row in Python, checked against the registry with one query, and written with one
Core insert (and its audit entries); a chunk that still meets a child registered meanwhile is redone row by row.
"""

from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from backend.branches.models import Branch
from backend.children import service
from backend.children.models import Child, ChildStatus
from backend.children.schemas import ChildCreate
from backend.core.audit_models import AuditLog
from backend.core.db import Database, insert_ids, utcnow
from backend.core.errors import AppError, ValidationFailed
from backend.core.scope import ANCESTOR_COLUMNS, Principal, get_scoped, scoped
from backend.core.security import rotating
from backend.jobs import imports as sheets
from backend.jobs.models import Job
from backend.jobs.service import JobOutcome, job_handler

CHILDREN_JOB = "children.import"
TITLE = "留守儿童名册"
# (key, header, dictionary, required, text column, hint)
COLUMNS = [
    ("name", "姓名", None, True, True, "必填"),
    ("id_number", "身份证号", None, True, True, "必填,18 位,请设为文本格式"),
    ("category", "类别", "child_category", True, False, "见「可填的值」"),
    ("school", "学校", None, False, True, ""),
    ("grade", "年级", None, False, True, "如 三年级"),
    ("guardian_relation", "监护人关系", "guardian_relation", False, False, ""),
    ("guardian_name", "监护人姓名", None, False, True, ""),
    ("guardian_phone", "监护人电话", None, False, True, ""),
    ("father_work_place", "父亲务工地", "parent_work_place", False, False, ""),
    ("father_city", "父亲务工城市", None, False, True, ""),
    ("father_phone", "父亲电话", None, False, True, ""),
    ("mother_work_place", "母亲务工地", "parent_work_place", False, False, ""),
    ("mother_city", "母亲务工城市", None, False, True, ""),
    ("mother_phone", "母亲电话", None, False, True, ""),
    ("disability", "残疾", None, False, False, "是 / 否"),
    ("serious_illness", "重病", None, False, False, "是 / 否"),
    ("out_of_school", "失学辍学", None, False, False, "是 / 否"),
    ("branch_code", "村(社区)组织代码", None, False, True, "不填则登记到上传时选定的组织"),
]
_PLACE = ("branch_id", *ANCESTOR_COLUMNS)
AUDITED = ("name", "sex", "id_number_masked", "birth_date", "category", "school", "grade", "status")
Outcome = tuple[int, str, str | None]


def template_bytes() -> bytes:
    return sheets.template_bytes(TITLE, COLUMNS)


def check_header(data: bytes) -> None:
    sheets.check_header(data, COLUMNS)


def convert(raw: dict[str, Any], branches: sheets.BranchCodes) -> dict[str, Any]:
    row: dict[str, Any] = {
        key: sheets.text(raw.get(key))
        for key, _, dictionary, _, text, _ in COLUMNS
        if text and key != "branch_code"
    }
    for key, _, dictionary, *_ in COLUMNS:
        if dictionary:
            row[key] = sheets.coded(raw.get(key), dictionary)
    for flag in service.SPECIAL_NEEDS:
        row[flag] = sheets.yes(raw.get(flag))
    row["branch_id"] = branches.id_for(sheets.text(raw.get("branch_code")))
    return row


class State:
    """What stays true across the chunks of one file: branches looked up, ID numbers already in the file."""

    def __init__(self) -> None:
        self.branches: dict[int, Branch | None] = {}
        self.seen: set[str] = set()


def _error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        from backend.core.errors import validation_errors

        err = validation_errors(list(exc.errors()))[0]
        return f"{err['field']}:{err['message']}" if err["field"] else err["message"]
    if isinstance(exc, AppError):
        field = exc.errors[0]["field"] if exc.errors else None
        return f"{field}:{exc.detail}" if field else exc.detail
    return str(exc)


def _branch(session, principal: Principal, branch_id: int, state: State) -> Branch:
    if branch_id not in state.branches:
        try:
            state.branches[branch_id] = get_scoped(session, Branch, branch_id, principal)
        except AppError:
            state.branches[branch_id] = None
    branch = state.branches[branch_id]
    if branch is None:
        raise ValidationFailed("branch_id", "所在组织不存在或不在您的管辖范围内")
    return branch


def _validated(session, principal: Principal, raw: dict[str, Any], default_branch: int, state: State):
    data = ChildCreate.model_validate({k: v for k, v in raw.items() if k != "branch_id"})
    number, born = service.parse_number(data.id_number)
    service.check_age(born)
    branch = _branch(session, principal, raw.get("branch_id") or default_branch, state)
    return data, number, born, branch


def _existing(session, principal: Principal, numbers: dict[str, str]) -> tuple[set[str], set[str], set[str]]:
    """Hashes (under the current key) already registered: those the uploader may see, those deleted (registered
    again on their old row, one by one) and the others."""
    if not numbers:
        return set(), set(), set()
    current = {h: h for h in numbers}
    if rotating():
        current.update({old: h for h, number in numbers.items() for old in service.id_number_hashes(number)})
    mine = {
        current[h]
        for h in session.execute(
            scoped(sa.select(Child.id_number_hash).where(Child.id_number_hash.in_(current)), principal, Child)
        ).scalars()
    }
    rows = session.execute(
        sa.select(Child.id_number_hash, Child.deleted_at).where(Child.id_number_hash.in_(current))
    ).all()
    deleted = {current[r.id_number_hash] for r in rows if r.deleted_at is not None}
    return mine, deleted, {current[r.id_number_hash] for r in rows} - mine - deleted


def write_chunk(session, principal: Principal, items, default_branch: int, state: State) -> list[Outcome]:
    outcomes: list[Outcome] = []
    parsed = []
    for n, raw in items:
        try:
            data, number, born, branch = _validated(session, principal, raw, default_branch, state)
            parsed.append((n, data, number, born, branch, service.id_columns(number)))
        except (ValidationError, AppError, ValueError) as exc:
            outcomes.append((n, "error", _error(exc)))
    mine, deleted, elsewhere = _existing(session, principal, {p[5]["id_number_hash"]: p[2] for p in parsed})
    now, new = utcnow(), []
    for n, data, number, born, branch, ids in parsed:
        digest = ids["id_number_hash"]
        if digest in state.seen:
            outcomes.append((n, "error", "id_number:与本表前面一行的身份证号重复(已按前一行登记)"))
            continue
        state.seen.add(digest)
        if digest in mine:
            # Already on the uploader's list: a village sending its updated list again loses nothing and fails
            # no row; changes to a registered child are made on her record.
            outcomes.append((n, "skipped", None))
            continue
        if digest in elsewhere:
            outcomes.append((n, "error", "id_number:该身份证号已登记(登记在其他单位,请联系上级妇联核对)"))
            continue
        if digest in deleted:
            outcomes.append((n, *_register(session, principal, data, branch)))
            continue
        new.append(
            {
                "name": data.name.strip(),
                "sex": service.sex_of(number).value,
                "birth_date": born,
                "category": data.category.value,
                "status": ChildStatus.active.value,
                "status_changed_on": None,
                "created_by": principal.subject,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
                "branch_id": branch.id,
                **{a: getattr(branch, a) for a in ANCESTOR_COLUMNS},
                **{k: getattr(v, "value", v) for k, v in service.child_values(data).items()},
                **ids,
            }
        )
        outcomes.append((n, "created", None))
    _insert(session, principal, new)
    return outcomes


def _insert(session, principal: Principal, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    ids = insert_ids(session, Child, rows)
    session.execute(
        sa.insert(AuditLog),
        [
            {
                "at": row["created_at"],
                "actor": principal.subject,
                "actor_name": principal.name,
                "action": "create",
                "entity": "child",
                "entity_id": str(new_id),
                "field": None,
                "before": None,
                "ip": None,
                "after": {k: str(row[k]) if row[k] is not None else None for k in AUDITED},
                **{k: row[k] for k in _PLACE},
            }
            for row, new_id in zip(rows, ids, strict=True)
        ],
    )


def _register(session, principal: Principal, data: ChildCreate, branch: Branch) -> tuple[str, str | None]:
    try:
        with session.begin_nested():
            service.register_child(session, principal, data, branch)
    except AppError as exc:
        return "error", _error(exc)
    return "created", None


def write_one(session, principal: Principal, row: dict[str, Any], state: State) -> tuple[str, str | None]:
    try:
        data = ChildCreate.model_validate({k: v for k, v in row.items() if k != "branch_id"})
        branch = _branch(session, principal, row.get("branch_id") or principal.branch_id, state)
    except (ValidationError, AppError) as exc:
        return "error", _error(exc)
    return _register(session, principal, data, branch)


@job_handler(CHILDREN_JOB)
def import_children(db: Database, job: Job, principal: Principal) -> JobOutcome:
    return sheets.run_import(db, job, principal, COLUMNS, convert, write_chunk, write_one, state=State())
