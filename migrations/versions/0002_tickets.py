"""tickets: 12338 hotline tickets, timeline, number counter, SLA settings, calendar overrides

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import backend.core.db


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "ticket_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "ticket_sla",
        sa.Column("urgency", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("first_response_amount", sa.Integer(), nullable=False),
        sa.Column("first_response_unit", sa.String(length=32), nullable=False),
        sa.Column("resolution_amount", sa.Integer(), nullable=False),
        sa.Column("resolution_unit", sa.String(length=32), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.PrimaryKeyConstraint("urgency"),
    )
    op.create_table(
        "ticket",
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
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("caller_name_enc", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("caller_name_masked", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("caller_phone_enc", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("caller_phone_masked", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("caller_phone_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("location_branch_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=32), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("first_responder_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("linked_to_id", sa.Integer(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("first_response_due_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolution_due_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_responded_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replied_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_on_time", sa.Boolean(), nullable=True),
        sa.Column("closed_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopened_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("callback_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("callback_reached", sa.Boolean(), nullable=True),
        sa.Column("satisfaction", sa.String(length=32), nullable=True),
        sa.Column("first_response_escalated", sa.Boolean(), nullable=False),
        sa.Column("resolution_escalated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["first_responder_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["linked_to_id"],
            ["ticket.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_a1_created_at", ["a1", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_a2_created_at", ["a2", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_a3_created_at", ["a3", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_a4_created_at", ["a4", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_a5_created_at", ["a5", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_a6_created_at", ["a6", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_a7_created_at", ["a7", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_a8_created_at", ["a8", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ticket_first_responder_id"), ["first_responder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ticket_location_branch_id"), ["location_branch_id"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_phone_hash_created", ["caller_phone_hash", "created_at"], unique=False
        )
        batch_op.create_index("ix_ticket_status_due", ["status", "resolution_due_at"], unique=False)

    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("referral_to", sa.String(length=32), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_event_author_ticket", ["author_id", "ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_event_referral_to"), ["referral_to"], unique=False)
        batch_op.create_index("ix_ticket_event_ticket_at", ["ticket_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_event_ticket_at")
        batch_op.drop_index(batch_op.f("ix_ticket_event_referral_to"))
        batch_op.drop_index("ix_ticket_event_author_ticket")

    op.drop_table("ticket_event")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_status_due")
        batch_op.drop_index("ix_ticket_phone_hash_created")
        batch_op.drop_index(batch_op.f("ix_ticket_location_branch_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_first_responder_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_category"))
        batch_op.drop_index(batch_op.f("ix_ticket_branch_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_assignee_id"))
        batch_op.drop_index("ix_ticket_a8_created_at")
        batch_op.drop_index("ix_ticket_a7_created_at")
        batch_op.drop_index("ix_ticket_a6_created_at")
        batch_op.drop_index("ix_ticket_a5_created_at")
        batch_op.drop_index("ix_ticket_a4_created_at")
        batch_op.drop_index("ix_ticket_a3_created_at")
        batch_op.drop_index("ix_ticket_a2_created_at")
        batch_op.drop_index("ix_ticket_a1_created_at")

    op.drop_table("ticket")
    op.drop_table("ticket_sla")
    op.drop_table("ticket_counter")
    op.drop_table("ticket_calendar_day")
