"""members, activities and volunteers: members and their posts, training, recommendations; activities with
photos and sign-in sheets; volunteer teams, volunteers and service records

Revision ID: 0004
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import backend.core.db


revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity",
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
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("venue", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("starts_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("co_organisers", sa.JSON(), nullable=False),
        sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("target_group", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("funds", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("funds_source", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("photo_count", sa.Integer(), nullable=False),
        sa.Column("signed_in", sa.Integer(), nullable=False),
        sa.Column("cover_photo_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("held_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("verified_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("verify_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a1_starts_at", ["a1", "starts_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a2_starts_at", ["a2", "starts_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a3_starts_at", ["a3", "starts_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a4_starts_at", ["a4", "starts_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a5_starts_at", ["a5", "starts_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a6_starts_at", ["a6", "starts_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a7_starts_at", ["a7", "starts_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_activity_a8_starts_at", ["a8", "starts_at", "deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_activity_branch_id_starts_at", ["branch_id", "starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_type"), ["type"], unique=False)

    op.create_table(
        "member",
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
        sa.Column("gender", sa.String(length=32), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("ethnicity", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("political_status", sa.String(length=32), nullable=True),
        sa.Column("education", sa.String(length=32), nullable=True),
        sa.Column("talent_pool", sa.Boolean(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index("ix_member_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_member_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_member_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_member_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_member_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_member_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_member_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_member_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_talent_pool"), ["talent_pool"], unique=False)

    op.create_table(
        "activity_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("thumb_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("caption", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id", "sha256", name="uq_activity_photo_content"),
    )
    with op.batch_alter_table("activity_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_photo_activity_id"), ["activity_id"], unique=False)

    op.create_table(
        "activity_sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("head_count", sa.Integer(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity_sign_in", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_sign_in_activity_id"), ["activity_id"], unique=False)

    op.create_table(
        "member_position",
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
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("part_time", sa.Boolean(), nullable=False),
        sa.Column("concurrent_posts", sa.JSON(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member_position", schema=None) as batch_op:
        batch_op.create_index("ix_member_position_a1_created_at", ["a1", "created_at"], unique=False)
        batch_op.create_index("ix_member_position_a2_created_at", ["a2", "created_at"], unique=False)
        batch_op.create_index("ix_member_position_a3_created_at", ["a3", "created_at"], unique=False)
        batch_op.create_index("ix_member_position_a4_created_at", ["a4", "created_at"], unique=False)
        batch_op.create_index("ix_member_position_a5_created_at", ["a5", "created_at"], unique=False)
        batch_op.create_index("ix_member_position_a6_created_at", ["a6", "created_at"], unique=False)
        batch_op.create_index("ix_member_position_a7_created_at", ["a7", "created_at"], unique=False)
        batch_op.create_index("ix_member_position_a8_created_at", ["a8", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_position_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_position_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_position_title"), ["title"], unique=False)

    op.create_table(
        "member_recommendation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("recommended_to", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recommended_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member_recommendation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_recommendation_member_id"), ["member_id"], unique=False)

    op.create_table(
        "member_training",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("course", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("organiser", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("trained_on", sa.Date(), nullable=False),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member_training", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_training_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_training_trained_on"), ["trained_on"], unique=False)

    op.create_table(
        "volunteer_team",
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
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("leader_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("leader_phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("leader_user_id", sa.Integer(), nullable=True),
        sa.Column("founded_on", sa.Date(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["leader_user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("volunteer_team", schema=None) as batch_op:
        batch_op.create_index(
            "ix_volunteer_team_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_team_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_team_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_team_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_team_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_team_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_team_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_team_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_volunteer_team_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_volunteer_team_type"), ["type"], unique=False)

    op.create_table(
        "volunteer",
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
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["volunteer_team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.create_index("ix_volunteer_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_volunteer_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_volunteer_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_volunteer_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_volunteer_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_volunteer_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_volunteer_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_volunteer_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_volunteer_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_volunteer_team_id"), ["team_id"], unique=False)

    op.create_table(
        "service_record",
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
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("target_group", sa.String(length=32), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reported_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reported_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("decided_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("decided_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["volunteer_team.id"],
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_record_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a1_served_on", ["a1", "served_on", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a2_served_on", ["a2", "served_on", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a3_served_on", ["a3", "served_on", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a4_served_on", ["a4", "served_on", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a5_served_on", ["a5", "served_on", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a6_served_on", ["a6", "served_on", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a7_served_on", ["a7", "served_on", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_service_record_a8_served_on", ["a8", "served_on", "deleted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_record_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_record_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_record_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_record_volunteer_id"), ["volunteer_id"], unique=False)


def downgrade() -> None:
    op.drop_table("service_record")
    op.drop_table("volunteer")
    op.drop_table("volunteer_team")
    op.drop_table("member_training")
    op.drop_table("member_recommendation")
    op.drop_table("member_position")
    op.drop_table("activity_sign_in")
    op.drop_table("activity_photo")
    op.drop_table("member")
    op.drop_table("activity")
