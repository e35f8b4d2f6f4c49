from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.core.scope import BranchScoped, SoftDelete, Timestamped, scope_indexes


class HardshipStatus(StrEnum):
    none = "none"
    dibao = "dibao"
    tekun = "tekun"


class ScreeningKind(StrEnum):
    cervical = "cervical"
    breast = "breast"


class ScreeningMethod(StrEnum):
    cytology = "cytology"
    hpv = "hpv"
    via_vili = "via_vili"
    clinical_exam = "clinical_exam"
    ultrasound = "ultrasound"
    mammography = "mammography"


METHODS_BY_KIND = {
    ScreeningKind.cervical: (ScreeningMethod.cytology, ScreeningMethod.hpv, ScreeningMethod.via_vili),
    ScreeningKind.breast: (
        ScreeningMethod.clinical_exam,
        ScreeningMethod.ultrasound,
        ScreeningMethod.mammography,
    ),
}


class ScreeningResult(StrEnum):
    normal = "normal"
    abnormal = "abnormal"
    suspected_positive = "suspected_positive"


class Tbs(StrEnum):
    NILM = "NILM"
    ASC_US = "ASC-US"
    ASC_H = "ASC-H"
    LSIL = "LSIL"
    HSIL = "HSIL"
    SCC = "SCC"
    AGC = "AGC"


class ScreeningSource(StrEnum):
    manual = "manual"
    import_ = "import"
    api = "api"


class FollowUpStatus(StrEnum):
    pending_notice = "pending_notice"
    notified = "notified"
    rechecked = "rechecked"
    diagnosed = "diagnosed"
    treated = "treated"
    closed = "closed"
    lost = "lost"


OPEN_FOLLOW_UP = (
    FollowUpStatus.pending_notice,
    FollowUpStatus.notified,
    FollowUpStatus.rechecked,
    FollowUpStatus.diagnosed,
    FollowUpStatus.treated,
)


class Diagnosis(StrEnum):
    benign = "benign"
    precancer = "precancer"
    cancer = "cancer"


class NoticeMethod(StrEnum):
    in_person = "in_person"
    phone = "phone"
    sms = "sms"
    other = "other"


class AidStatus(StrEnum):
    submitted = "submitted"
    verified = "verified"
    approved = "approved"
    paid = "paid"
    rejected = "rejected"


class Woman(BranchScoped, Timestamped, SoftDelete, table=True):
    """A woman on the screening register (摸底名册); one row per resident ID number in the whole installation."""

    __label__ = "妇女"
    __table_args__ = (*scope_indexes("woman", soft_delete=True),)
    __audit_exclude__ = ("id_number_enc", "id_number_hash", "phone_enc", "phone_hash")
    # Encrypted column -> (its blind index column, the index's purpose): re-keyed by `halfsky rotate-pii-key`.
    __encrypted_fields__ = {
        "id_number_enc": ("id_number_hash", "id_number"),
        "phone_enc": ("phone_hash", "phone"),
    }

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    id_number_enc: str = Field(max_length=255)
    id_number_hash: str = Field(max_length=64, unique=True)
    id_number_masked: str = Field(max_length=18)
    phone_enc: str | None = Field(default=None, max_length=255)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    phone_masked: str | None = Field(default=None, max_length=20)
    birth_date: date
    hardship_status: HardshipStatus = Field(default=HardshipStatus.none, sa_type=sa.String(32))
    hardship_verified_by: str | None = Field(default=None, max_length=100)
    hardship_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScreeningPlan(BranchScoped, Timestamped, SoftDelete, table=True):
    """A year's screening target for a branch: the denominator of coverage."""

    __label__ = "筛查计划"
    __tablename__ = "screening_plan"
    __table_args__ = (
        *scope_indexes("screening_plan", soft_delete=True),
        sa.Index("ix_screening_plan_year_branch", "year", "branch_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int
    name: str | None = Field(default=None, max_length=100)
    target_count: int
    budget: Decimal | None = Field(default=None, sa_type=sa.Numeric(14, 2))


class ScreeningRecord(BranchScoped, Timestamped, SoftDelete, table=True):
    """One screening of one woman (cervical or breast); placed in her branch."""

    __label__ = "筛查记录"
    __tablename__ = "screening_record"
    __table_args__ = (
        *scope_indexes("screening_record", soft_delete=True),
        *scope_indexes("screening_record", "screened_on", soft_delete=True),
        sa.UniqueConstraint("sender", "external_id", name="uq_screening_record_sender_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    woman_id: int = Field(foreign_key="woman.id", index=True)
    plan_id: int | None = Field(default=None, foreign_key="screening_plan.id", index=True)
    kind: ScreeningKind = Field(sa_type=sa.String(32))
    screened_on: date
    institution: str | None = Field(default=None, max_length=100)
    method: ScreeningMethod | None = Field(default=None, sa_type=sa.String(32))
    result: ScreeningResult = Field(sa_type=sa.String(32))
    tbs: Tbs | None = Field(default=None, sa_type=sa.String(32))
    birads: int | None = None
    consent: bool = False
    source: ScreeningSource = Field(default=ScreeningSource.manual, sa_type=sa.String(32))
    sender: str | None = Field(default=None, max_length=64)
    external_id: str | None = Field(default=None, max_length=64)


class FollowUp(BranchScoped, Timestamped, table=True):
    """The path of one abnormal result to a diagnosis: notice, re-examination, diagnosis, treatment."""

    __label__ = "随访"
    __tablename__ = "follow_up"
    __table_args__ = (
        *scope_indexes("follow_up"),
        sa.Index("ix_follow_up_status_notice_due", "status", "notice_due_on"),
        sa.Index("ix_follow_up_status_recheck_due", "status", "recheck_due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="screening_record.id", unique=True)
    woman_id: int = Field(foreign_key="woman.id", index=True)
    kind: ScreeningKind = Field(sa_type=sa.String(32))
    status: FollowUpStatus = Field(default=FollowUpStatus.pending_notice, sa_type=sa.String(32), index=True)
    notice_due_on: date
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notified_by: str | None = Field(default=None, max_length=100)
    notice_method: NoticeMethod | None = Field(default=None, sa_type=sa.String(32))
    recheck_due_on: date | None = None
    rechecked_on: date | None = None
    recheck_institution: str | None = Field(default=None, max_length=100)
    recheck_result: str | None = Field(default=None, max_length=500)
    diagnosis: Diagnosis | None = Field(default=None, sa_type=sa.String(32), index=True)
    diagnosed_on: date | None = None
    treated_on: date | None = None
    treatment: str | None = Field(default=None, max_length=500)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lost_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lost_reason: str | None = Field(default=None, max_length=500)
    visit_count: int = 0
    last_visit_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue_flagged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=1000)


class FollowUpEvent(SQLModel, table=True):
    """Each step and visit of a follow-up, dated and signed."""

    __label__ = "随访记录"
    __tablename__ = "follow_up_event"
    __audit__ = False  # the follow-up's own audit entries already carry the change

    id: int | None = Field(default=None, primary_key=True)
    follow_up_id: int = Field(foreign_key="follow_up.id", index=True)
    action: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str | None = Field(default=None, max_length=64)
    actor_name: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=1000)
    data: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class AidApplication(BranchScoped, Timestamped, SoftDelete, table=True):
    """Cancer treatment aid for a woman in hardship, checked with civil affairs."""

    __label__ = "救助申请"
    __tablename__ = "aid_application"
    __table_args__ = (*scope_indexes("aid_application", soft_delete=True),)

    id: int | None = Field(default=None, primary_key=True)
    woman_id: int = Field(foreign_key="woman.id", index=True)
    follow_up_id: int = Field(foreign_key="follow_up.id", index=True)
    diagnosis: Diagnosis = Field(default=Diagnosis.cancer, sa_type=sa.String(32))
    amount: Decimal = Field(sa_type=sa.Numeric(14, 2))
    documents: list[str] = Field(default_factory=list, sa_type=JSON)
    note: str | None = Field(default=None, max_length=1000)
    status: AidStatus = Field(default=AidStatus.submitted, sa_type=sa.String(32), index=True)
    submitted_by: str | None = Field(default=None, max_length=100)
    verified_hardship: HardshipStatus | None = Field(default=None, sa_type=sa.String(32))
    verified_by: str | None = Field(default=None, max_length=100)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verification_note: str | None = Field(default=None, max_length=500)
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_by: str | None = Field(default=None, max_length=100)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payment_reference: str | None = Field(default=None, max_length=100)
    rejected_by: str | None = Field(default=None, max_length=100)
    rejected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rejected_reason: str | None = Field(default=None, max_length=500)
