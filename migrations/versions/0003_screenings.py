"""screenings: women register, plans, records, follow-ups, aid; generic background jobs

Revision ID: 0003
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import backend.core.db


revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "follow_up_event",
    "aid_application",
    "follow_up",
    "screening_record",
    "woman",
    "screening_plan",
    "job",
)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("started_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("failed_sheet", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_a1_created_at", "job", ["a1", "created_at"], unique=False)
    op.create_index("ix_job_a2_created_at", "job", ["a2", "created_at"], unique=False)
    op.create_index("ix_job_a3_created_at", "job", ["a3", "created_at"], unique=False)
    op.create_index("ix_job_a4_created_at", "job", ["a4", "created_at"], unique=False)
    op.create_index("ix_job_a5_created_at", "job", ["a5", "created_at"], unique=False)
    op.create_index("ix_job_a6_created_at", "job", ["a6", "created_at"], unique=False)
    op.create_index("ix_job_a7_created_at", "job", ["a7", "created_at"], unique=False)
    op.create_index("ix_job_a8_created_at", "job", ["a8", "created_at"], unique=False)
    op.create_index(op.f("ix_job_branch_id"), "job", ["branch_id"], unique=False)
    op.create_index(op.f("ix_job_kind"), "job", ["kind"], unique=False)
    op.create_index(op.f("ix_job_status"), "job", ["status"], unique=False)
    op.create_table(
        "screening_plan",
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("target_count", sa.Integer(), nullable=False),
        sa.Column("budget", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_screening_plan_a1_created_at", "screening_plan", ["a1", "created_at", "deleted_at"], unique=False
    )
    op.create_index(
        "ix_screening_plan_a2_created_at", "screening_plan", ["a2", "created_at", "deleted_at"], unique=False
    )
    op.create_index(
        "ix_screening_plan_a3_created_at", "screening_plan", ["a3", "created_at", "deleted_at"], unique=False
    )
    op.create_index(
        "ix_screening_plan_a4_created_at", "screening_plan", ["a4", "created_at", "deleted_at"], unique=False
    )
    op.create_index(
        "ix_screening_plan_a5_created_at", "screening_plan", ["a5", "created_at", "deleted_at"], unique=False
    )
    op.create_index(
        "ix_screening_plan_a6_created_at", "screening_plan", ["a6", "created_at", "deleted_at"], unique=False
    )
    op.create_index(
        "ix_screening_plan_a7_created_at", "screening_plan", ["a7", "created_at", "deleted_at"], unique=False
    )
    op.create_index(
        "ix_screening_plan_a8_created_at", "screening_plan", ["a8", "created_at", "deleted_at"], unique=False
    )
    op.create_index(op.f("ix_screening_plan_branch_id"), "screening_plan", ["branch_id"], unique=False)
    op.create_index("ix_screening_plan_year_branch", "screening_plan", ["year", "branch_id"], unique=False)
    op.create_table(
        "woman",
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("id_number_enc", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("id_number_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id_number_masked", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("phone_enc", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("phone_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("phone_masked", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("hardship_status", sa.String(length=32), nullable=False),
        sa.Column("hardship_verified_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("hardship_verified_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_number_hash"),
    )
    op.create_index("ix_woman_a1_created_at", "woman", ["a1", "created_at", "deleted_at"], unique=False)
    op.create_index("ix_woman_a2_created_at", "woman", ["a2", "created_at", "deleted_at"], unique=False)
    op.create_index("ix_woman_a3_created_at", "woman", ["a3", "created_at", "deleted_at"], unique=False)
    op.create_index("ix_woman_a4_created_at", "woman", ["a4", "created_at", "deleted_at"], unique=False)
    op.create_index("ix_woman_a5_created_at", "woman", ["a5", "created_at", "deleted_at"], unique=False)
    op.create_index("ix_woman_a6_created_at", "woman", ["a6", "created_at", "deleted_at"], unique=False)
    op.create_index("ix_woman_a7_created_at", "woman", ["a7", "created_at", "deleted_at"], unique=False)
    op.create_index("ix_woman_a8_created_at", "woman", ["a8", "created_at", "deleted_at"], unique=False)
    op.create_index(op.f("ix_woman_branch_id"), "woman", ["branch_id"], unique=False)
    op.create_index(op.f("ix_woman_phone_hash"), "woman", ["phone_hash"], unique=False)
    op.create_table(
        "screening_record",
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("woman_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("institution", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("tbs", sa.String(length=32), nullable=True),
        sa.Column("birads", sa.Integer(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["screening_plan.id"],
        ),
        sa.ForeignKeyConstraint(
            ["woman_id"],
            ["woman.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "external_id", name="uq_screening_record_sender_external_id"),
    )
    op.create_index(
        "ix_screening_record_a1_created_at",
        "screening_record",
        ["a1", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a1_screened_on",
        "screening_record",
        ["a1", "screened_on", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a2_created_at",
        "screening_record",
        ["a2", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a2_screened_on",
        "screening_record",
        ["a2", "screened_on", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a3_created_at",
        "screening_record",
        ["a3", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a3_screened_on",
        "screening_record",
        ["a3", "screened_on", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a4_created_at",
        "screening_record",
        ["a4", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a4_screened_on",
        "screening_record",
        ["a4", "screened_on", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a5_created_at",
        "screening_record",
        ["a5", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a5_screened_on",
        "screening_record",
        ["a5", "screened_on", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a6_created_at",
        "screening_record",
        ["a6", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a6_screened_on",
        "screening_record",
        ["a6", "screened_on", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a7_created_at",
        "screening_record",
        ["a7", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a7_screened_on",
        "screening_record",
        ["a7", "screened_on", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a8_created_at",
        "screening_record",
        ["a8", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_screening_record_a8_screened_on",
        "screening_record",
        ["a8", "screened_on", "deleted_at"],
        unique=False,
    )
    op.create_index(op.f("ix_screening_record_branch_id"), "screening_record", ["branch_id"], unique=False)
    op.create_index(op.f("ix_screening_record_plan_id"), "screening_record", ["plan_id"], unique=False)
    op.create_index(op.f("ix_screening_record_woman_id"), "screening_record", ["woman_id"], unique=False)
    op.create_table(
        "follow_up",
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("woman_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("notice_due_on", sa.Date(), nullable=False),
        sa.Column("notified_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notified_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("notice_method", sa.String(length=32), nullable=True),
        sa.Column("recheck_due_on", sa.Date(), nullable=True),
        sa.Column("rechecked_on", sa.Date(), nullable=True),
        sa.Column("recheck_institution", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("recheck_result", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("diagnosis", sa.String(length=32), nullable=True),
        sa.Column("diagnosed_on", sa.Date(), nullable=True),
        sa.Column("treated_on", sa.Date(), nullable=True),
        sa.Column("treatment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("closed_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lost_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lost_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("visit_count", sa.Integer(), nullable=False),
        sa.Column("last_visit_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_flagged_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["screening_record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["woman_id"],
            ["woman.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    op.create_index("ix_follow_up_a1_created_at", "follow_up", ["a1", "created_at"], unique=False)
    op.create_index("ix_follow_up_a2_created_at", "follow_up", ["a2", "created_at"], unique=False)
    op.create_index("ix_follow_up_a3_created_at", "follow_up", ["a3", "created_at"], unique=False)
    op.create_index("ix_follow_up_a4_created_at", "follow_up", ["a4", "created_at"], unique=False)
    op.create_index("ix_follow_up_a5_created_at", "follow_up", ["a5", "created_at"], unique=False)
    op.create_index("ix_follow_up_a6_created_at", "follow_up", ["a6", "created_at"], unique=False)
    op.create_index("ix_follow_up_a7_created_at", "follow_up", ["a7", "created_at"], unique=False)
    op.create_index("ix_follow_up_a8_created_at", "follow_up", ["a8", "created_at"], unique=False)
    op.create_index(op.f("ix_follow_up_branch_id"), "follow_up", ["branch_id"], unique=False)
    op.create_index(op.f("ix_follow_up_diagnosis"), "follow_up", ["diagnosis"], unique=False)
    op.create_index(op.f("ix_follow_up_status"), "follow_up", ["status"], unique=False)
    op.create_index("ix_follow_up_status_notice_due", "follow_up", ["status", "notice_due_on"], unique=False)
    op.create_index(
        "ix_follow_up_status_recheck_due", "follow_up", ["status", "recheck_due_on"], unique=False
    )
    op.create_index(op.f("ix_follow_up_woman_id"), "follow_up", ["woman_id"], unique=False)
    op.create_table(
        "aid_application",
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("woman_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("diagnosis", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("submitted_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("verified_hardship", sa.String(length=32), nullable=True),
        sa.Column("verified_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("verified_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verification_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("approved_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("paid_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payment_reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("rejected_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("rejected_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_up.id"],
        ),
        sa.ForeignKeyConstraint(
            ["woman_id"],
            ["woman.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_aid_application_a1_created_at",
        "aid_application",
        ["a1", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_aid_application_a2_created_at",
        "aid_application",
        ["a2", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_aid_application_a3_created_at",
        "aid_application",
        ["a3", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_aid_application_a4_created_at",
        "aid_application",
        ["a4", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_aid_application_a5_created_at",
        "aid_application",
        ["a5", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_aid_application_a6_created_at",
        "aid_application",
        ["a6", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_aid_application_a7_created_at",
        "aid_application",
        ["a7", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(
        "ix_aid_application_a8_created_at",
        "aid_application",
        ["a8", "created_at", "deleted_at"],
        unique=False,
    )
    op.create_index(op.f("ix_aid_application_branch_id"), "aid_application", ["branch_id"], unique=False)
    op.create_index(
        op.f("ix_aid_application_follow_up_id"), "aid_application", ["follow_up_id"], unique=False
    )
    op.create_index(op.f("ix_aid_application_status"), "aid_application", ["status"], unique=False)
    op.create_index(op.f("ix_aid_application_woman_id"), "aid_application", ["woman_id"], unique=False)
    op.create_table(
        "follow_up_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_up.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_follow_up_event_follow_up_id"), "follow_up_event", ["follow_up_id"], unique=False
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
