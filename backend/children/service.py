"""The children's registry (留守儿童档案): registration with one child per ID number in the installation, masking and
the audited reveal, moves and status changes, the carer's view, the aged-out sweep. No HTTP here.

Presenters: `to_public` for a child as the branches see her, `carer_to_public` for a paired child as her carer
sees her. Lists are `list_children` and `list_carer_children` (`list_<things>(session, principal, page, *, …)`).
Homes, inspections and family calls are in `homes.py`.
"""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from backend.branches.models import Branch
from backend.children import pairings
from backend.children.models import (
    CARER_ROLE,
    Child,
    ChildCategory,
    ChildStatus,
    Pairing,
    PairingStatus,
    Sex,
    Visit,
)
from backend.children.schemas import (
    CarerChildPublic,
    ChildCreate,
    ChildPii,
    ChildPublic,
    ChildUpdate,
)
from backend.core import audit
from backend.core.clock import today_in_china
from backend.core.db import is_unique_violation, utcnow
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.scope import ANCESTOR_COLUMNS, Principal, get_scoped, scoped, within
from backend.core.security import blind_index, blind_indexes, encrypt_field, mask_id_number, mask_phone
from backend.screenings.idcard import IdNumberError, age_on, parse_id_number

ID_PURPOSE = "child_id_number"
# Children are counted as left behind until this age; the sweep marks them aged out on the birthday.
AGE_OUT_AT = 16
PHONES = ("guardian_phone", "father_phone", "mother_phone")
SPECIAL_NEEDS = ("disability", "serious_illness", "out_of_school")
# Two-character surnames, so a guardian's given name is what is left after the surname.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "令狐",
        "端木",
        "轩辕",
        "西门",
        "南宫",
        "独孤",
        "万俟",
        "闻人",
        "澹台",
        "公冶",
        "太史",
        "申屠",
    ]
)


def id_number_hashes(id_number: str) -> list[str]:
    """What a stored row may hold for this number: its hash under the current key and, mid-rotation, old ones."""
    return blind_indexes(id_number, ID_PURPOSE)


def id_columns(id_number: str) -> dict[str, Any]:
    return {
        "id_number_enc": encrypt_field(id_number),
        "id_number_hash": blind_index(id_number, ID_PURPOSE),
        "id_number_masked": mask_id_number(id_number),
    }


def phone_columns(name: str, phone: str | None) -> dict[str, Any]:
    phone = (phone or "").strip() or None
    return {f"{name}_enc": encrypt_field(phone) if phone else None, f"{name}_masked": mask_phone(phone)}


def sex_of(id_number: str) -> Sex:
    """The 17th digit of a resident ID number is odd for boys, even for girls."""
    return Sex.male if int(id_number[16]) % 2 else Sex.female


def given_name(name: str | None) -> str | None:
    """张桂英 → 桂英, 欧阳娜娜 → 娜娜; a one-character name stays as it is."""
    if not name:
        return None
    name = name.strip()
    surname = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[surname:] or name


def aged_out_born_before(today: date) -> date:
    """A child born on or before this day is 16 or older today."""
    try:
        return today.replace(year=today.year - AGE_OUT_AT)
    except ValueError:  # 29 February: the birthday falls on 1 March in a common year
        return date(today.year - AGE_OUT_AT, 2, 28)


# ---- presenters


CHILD_COLUMNS = [
    Column("name", "姓名"),
    Column("sex", "性别", "child_sex"),
    Column("id_number", "身份证号(脱敏)"),
    Column("birth_date", "出生日期"),
    Column("branch_name", "村(社区)"),
    Column("age", "年龄"),
    Column("school", "学校"),
    Column("grade", "年级"),
    Column("category", "类别", "child_category"),
    Column("guardian_relation", "监护人关系", "guardian_relation"),
    Column("guardian_name", "监护人姓名"),
    Column("guardian_phone", "监护人电话(脱敏)"),
    Column("father_work_place", "父亲务工地", "parent_work_place"),
    Column("father_city", "父亲务工城市"),
    Column("father_phone", "父亲电话(脱敏)"),
    Column("mother_work_place", "母亲务工地", "parent_work_place"),
    Column("mother_city", "母亲务工城市"),
    Column("mother_phone", "母亲电话(脱敏)"),
    Column("disability", "残疾"),
    Column("serious_illness", "重病"),
    Column("out_of_school", "失学辍学"),
    Column("status", "状态", "child_status"),
    Column("status_changed_on", "状态日期"),
]


def to_public(c: Any) -> ChildPublic:
    """ID number and phones masked; the clear values only through `reveal_child`.

    `c` is a list row (which carries `branch_name`) or a child record (whose village is looked up).
    """
    branch_name = getattr(c, "branch_name", None)
    if branch_name is None and isinstance(c, Child) and (session := object_session(c)) is not None:
        branch_name = session.get(Branch, c.branch_id).name
    return ChildPublic(
        id=c.id,
        name=c.name,
        sex=c.sex,
        id_number=c.id_number_masked,
        birth_date=c.birth_date,
        age=age_on(c.birth_date, today_in_china()),
        branch_id=c.branch_id,
        branch_name=branch_name,
        school=c.school,
        grade=c.grade,
        guardian_relation=c.guardian_relation,
        guardian_name=c.guardian_name,
        guardian_phone=c.guardian_phone_masked,
        father_work_place=c.father_work_place,
        father_city=c.father_city,
        father_phone=c.father_phone_masked,
        mother_work_place=c.mother_work_place,
        mother_city=c.mother_city,
        mother_phone=c.mother_phone_masked,
        category=c.category,
        disability=c.disability,
        serious_illness=c.serious_illness,
        out_of_school=c.out_of_school,
        status=c.status,
        status_changed_on=c.status_changed_on,
        note=c.note,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


def carer_to_public(row: Any) -> CarerChildPublic:
    """Built from named columns only, so nothing else of the child ever reaches the carer's answer."""
    return CarerChildPublic(
        id=row.id,
        name=row.name,
        age=age_on(row.birth_date, today_in_china()),
        guardian_first_name=given_name(row.guardian_name),
        village=row.village,
        pairing_id=row.pairing_id,
        last_visit_on=row.last_visit_on,
        next_visit_due_on=row.next_visit_due_on,
    )


# ---- lists


def active_pairing_exists() -> Any:
    return (
        sa.select(Pairing.id)
        .where(
            Pairing.child_id == Child.id,
            Pairing.status == PairingStatus.active,
            Pairing.deleted_at.is_(None),
        )
        .exists()
    )


def list_children(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    category: ChildCategory | None = None,
    status: ChildStatus | None = None,
    special_needs: bool | None = None,
    school: str | None = None,
    unpaired: bool | None = None,
    born_from: date | None = None,
    born_to: date | None = None,
) -> Any:
    stmt = within(session, principal, scoped(select(Child), principal), Child, under)
    if category:
        stmt = stmt.where(Child.category == category)
    if status:
        stmt = stmt.where(Child.status == status)
    if special_needs is not None:
        any_need = sa.or_(*(getattr(Child, n).is_(True) for n in SPECIAL_NEEDS))
        stmt = stmt.where(any_need if special_needs else sa.not_(any_need))
    if school:
        stmt = stmt.where(sa.func.lower(Child.school).like(f"%{school.strip().lower()}%"))
    if unpaired is not None:
        # "Unpaired" is about the children who need a carer: active ones without an active pairing.
        if unpaired:
            stmt = stmt.where(Child.status == ChildStatus.active, sa.not_(active_pairing_exists()))
        else:
            stmt = stmt.where(active_pairing_exists())
    if born_from:
        stmt = stmt.where(Child.birth_date >= born_from)
    if born_to:
        stmt = stmt.where(Child.birth_date <= born_to)
    # Plain rows with the village's name, not ORM objects: a page is read, never changed.
    village = sa.select(Branch.name).where(Branch.id == Child.branch_id).scalar_subquery()
    stmt = stmt.with_only_columns(
        *Child.__table__.c, village.label("branch_name"), maintain_column_froms=True
    )
    return page.respond(
        session,
        stmt,
        to_public,
        scalars=False,
        search=[Child.name],
        columns=CHILD_COLUMNS,
        filename="children",
        sortable={
            "created_at": Child.created_at,
            "name": Child.name,
            "birth_date": Child.birth_date,
            "school": Child.school,
            "id": Child.id,
        },
    )


def _carer_rows(principal: Principal) -> Any:
    stmt = (
        sa.select(
            Child.id,
            Child.name,
            Child.birth_date,
            Child.guardian_name,
            Branch.name.label("village"),
            Pairing.id.label("pairing_id"),
            Pairing.last_visit_on,
            Pairing.next_visit_due_on,
        )
        .join(Pairing, Pairing.child_id == Child.id)
        .join(Branch, Branch.id == Child.branch_id)
        .where(
            Pairing.carer_user_id == principal.id,
            Pairing.status == PairingStatus.active,
            Pairing.deleted_at.is_(None),
        )
    )
    return scoped(stmt, principal, Child)


def list_carer_children(session: Session, principal: Principal, page: ListParams) -> Any:
    """The children paired with the calling carer, the most overdue first."""
    return page.respond(
        session,
        _carer_rows(principal),
        carer_to_public,
        search=[Child.name],
        filename="my-children",
        columns=[Column("name", "姓名"), Column("age", "年龄"), Column("village", "村(社区)")],
        sortable={"due": Pairing.next_visit_due_on, "name": Child.name, "id": Child.id},
        default_sort="due",
        scalars=False,
    )


def get_carer_child(session: Session, principal: Principal, child_id: int) -> CarerChildPublic:
    row = session.execute(_carer_rows(principal).where(Child.id == child_id)).first()
    if row is None:
        raise NotFound("儿童不存在或无权查看")
    return carer_to_public(row)


# ---- registration


def parse_number(raw: str, field: str = "id_number") -> tuple[str, date]:
    try:
        return parse_id_number(raw)
    except IdNumberError as exc:
        raise ValidationFailed(field, str(exc)) from None


def check_age(born: date, today: date | None = None) -> None:
    today = today or today_in_china()
    if age_on(born, today) >= AGE_OUT_AT:
        raise ValidationFailed("id_number", f"按身份证号已满 {AGE_OUT_AT} 周岁,不列入留守儿童名册")


def _check_sex(sex: Sex | None, number: str) -> Sex:
    derived = sex_of(number)
    if sex is not None and sex != derived:
        raise ValidationFailed("sex", "性别与身份证号不符(第 17 位单数为男、双数为女)")
    return derived


def duplicate(session: Session, principal: Principal, existing_id: int) -> Conflict:
    """409 naming the child already registered, if the caller may see her; otherwise a neutral 409."""
    visible = session.exec(scoped(select(Child.id).where(Child.id == existing_id), principal)).first()
    extra = {"child_id": existing_id} if visible else {}
    where = "" if visible else "(登记在其他单位,请联系上级妇联核对)"
    return Conflict(
        f"该身份证号已登记{where}",
        errors=[{"field": "id_number", "loc": ["id_number"], "message": "该身份证号已登记"}],
        **extra,
    )


def _existing_id(session: Session, number: str) -> Any:
    return session.exec(
        select(Child.id, Child.deleted_at).where(Child.id_number_hash.in_(id_number_hashes(number)))
    ).first()


def child_values(data: Any) -> dict[str, Any]:
    """The plain columns of a form (phones encrypted and masked)."""
    values = {
        "school": (data.school or "").strip() or None,
        "grade": (data.grade or "").strip() or None,
        "guardian_relation": data.guardian_relation,
        "guardian_name": (data.guardian_name or "").strip() or None,
        "father_work_place": data.father_work_place,
        "father_city": data.father_city,
        "mother_work_place": data.mother_work_place,
        "mother_city": data.mother_city,
        "disability": data.disability,
        "serious_illness": data.serious_illness,
        "out_of_school": data.out_of_school,
        "note": data.note,
    }
    for name in PHONES:
        values.update(phone_columns(name, getattr(data, name)))
    return values


def register_child(session: Session, principal: Principal, data: ChildCreate, branch: Branch) -> Child:
    number, born = parse_number(data.id_number)
    check_age(born)
    sex = _check_sex(data.sex, number)
    values = {
        "name": data.name.strip(),
        "sex": sex,
        "birth_date": born,
        "category": data.category,
        "status": ChildStatus.active,
        "status_changed_on": None,
        **child_values(data),
        **id_columns(number),
    }
    existing = _existing_id(session, number)
    if existing is not None and existing.deleted_at is None:
        raise duplicate(session, principal, existing.id)
    if existing is not None:
        # Registered once and deleted: the same child is registered again on her old row.
        child = session.get(Child, existing.id)
        for key, value in values.items():
            setattr(child, key, value)
        child.deleted_at = None
        child.created_by = principal.subject
        move_child(session, child, branch)
        child.updated_at = utcnow()
        session.flush()
        return child
    child = Child(created_by=principal.subject, **values)
    child.place_in(branch)
    try:
        with session.begin_nested():
            session.add(child)
            session.flush()
    except sa.exc.IntegrityError as exc:
        if is_unique_violation(exc):
            raise Conflict("该身份证号已登记") from None
        raise
    return child


def update_child(session: Session, principal: Principal, child: Child, data: ChildUpdate) -> Child:
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "category", "sex", "status"):
        if required in changes and changes[required] is None:
            raise ValidationFailed(required, "此项不能为空")
    if changes.get("id_number") is not None:
        number, born = parse_number(changes.pop("id_number"))
        existing = _existing_id(session, number)
        if existing is not None and existing.id != child.id:
            raise duplicate(session, principal, existing.id)
        child.birth_date = born
        child.sex = sex_of(number)
        for key, value in id_columns(number).items():
            setattr(child, key, value)
    else:
        changes.pop("id_number", None)
    if "sex" in changes:
        child.sex = _check_sex(changes.pop("sex"), decrypt_number(child))
    if "name" in changes:
        child.name = changes.pop("name").strip()
    for name in PHONES:
        if name in changes:
            for key, value in phone_columns(name, changes.pop(name)).items():
                setattr(child, key, value)
    status_on = changes.pop("status_changed_on", None)
    if "status" in changes:
        set_status(child, changes.pop("status"), status_on)
    elif status_on is not None:
        if child.status_changed_on is None:
            raise ValidationFailed("status_changed_on", "状态未变化,不能只改状态日期")
        child.status_changed_on = _past_or_today(status_on)
    branch_id = changes.pop("branch_id", None)
    if branch_id is not None and branch_id != child.branch_id:
        move_child(session, child, get_scoped(session, Branch, branch_id, principal))
    for key, value in changes.items():
        setattr(child, key, value.strip() or None if isinstance(value, str) else value)
    child.updated_at = utcnow()
    session.flush()
    return child


def decrypt_number(child: Child) -> str:
    from backend.core.security import decrypt_field

    return decrypt_field(child.id_number_enc)


def _past_or_today(day: date) -> date:
    if day > today_in_china():
        raise ValidationFailed("status_changed_on", "状态日期不能晚于今天")
    return day


def set_status(child: Child, status: ChildStatus, on: date | None = None) -> None:
    if status == child.status:
        if on is not None:
            child.status_changed_on = _past_or_today(on)
        return
    if status == ChildStatus.active and age_on(child.birth_date, today_in_china()) >= AGE_OUT_AT:
        raise ValidationFailed("status", f"已满 {AGE_OUT_AT} 周岁,不能恢复为在册")
    child.status = status
    child.status_changed_on = _past_or_today(on) if on is not None else today_in_china()


def move_child(session: Session, child: Child, branch: Branch) -> None:
    """She moved village: her pairings and visits go with her, so the new village sees her history."""
    child.place_in(branch)
    values = {"branch_id": branch.id, **{a: getattr(branch, a) for a in ANCESTOR_COLUMNS}}
    for model in (Pairing, Visit):
        session.execute(sa.update(model).where(model.child_id == child.id).values(**values))


def soft_delete_child(session: Session, child: Child) -> None:
    if session.exec(
        select(Pairing.id).where(
            Pairing.child_id == child.id, Pairing.status == PairingStatus.active, Pairing.deleted_at.is_(None)
        )
    ).first():
        raise Conflict("这个孩子有进行中的结对,请先结束结对再删除")
    child.soft_delete()
    session.flush()


def reveal_child(session: Session, principal: Principal, child: Child) -> ChildPii:
    """Her ID number and the phones in clear, through the one audited reveal."""
    clear = audit.reveal(session, principal, child, ["id_number", *PHONES])
    return ChildPii(id=child.id, name=child.name, **clear)


def is_carer(principal: Principal) -> bool:
    return principal.role == CARER_ROLE


# ---- the sweep


def age_out(session: Session, today: date | None = None) -> int:
    """Children who turned 16 leave the list of left-behind children and their open pairings end (idempotent: only
    those not yet marked)."""
    today = today or today_in_china()
    children = session.scalars(
        select(Child).where(
            Child.status.in_((ChildStatus.active, ChildStatus.parents_returned)),
            Child.birth_date <= aged_out_born_before(today),
            Child.deleted_at.is_(None),
        )
    ).all()
    for child in children:
        child.status = ChildStatus.aged_out
        child.status_changed_on = today
        child.updated_at = utcnow()
    session.flush()
    pairings.end_for_children(
        session, [c.id for c in children], "孩子年满 16 周岁,不再列入留守儿童名册", today
    )
    return len(children)
