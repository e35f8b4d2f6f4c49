"""left-behind children: the children's registry, children's homes with inspections and family calls, pairings
with their events, visits and visit photos; an activity may name its home, a ticket its child

Revision ID: 0006
Revises: 0002, 0004
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import backend.core.db


revision = "0006"
down_revision = ("0002", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "child",
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("id_number_enc", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("id_number_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id_number_masked", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("school", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("guardian_relation", sa.String(length=32), nullable=True),
        sa.Column("guardian_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("guardian_phone_enc", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("guardian_phone_masked", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("father_work_place", sa.String(length=32), nullable=True),
        sa.Column("father_city", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("father_phone_enc", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("father_phone_masked", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("mother_work_place", sa.String(length=32), nullable=True),
        sa.Column("mother_city", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("mother_phone_enc", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("mother_phone_masked", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("disability", sa.Boolean(), nullable=False),
        sa.Column("serious_illness", sa.Boolean(), nullable=False),
        sa.Column("out_of_school", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_changed_on", sa.Date(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_number_hash"),
    )
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.create_index("ix_child_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_child_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_child_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_child_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_child_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_child_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_child_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_child_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_child_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_child_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_child_school"), ["school"], unique=False)
        batch_op.create_index(batch_op.f("ix_child_status"), ["status"], unique=False)
        batch_op.create_index("ix_child_status_birth_date", ["status", "birth_date"], unique=False)

    op.create_table(
        "children_home",
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("host", sa.String(length=32), nullable=False),
        sa.Column("school_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("opening_hours", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("manager_member_id", sa.Integer(), nullable=True),
        sa.Column("supervisor_member_id", sa.Integer(), nullable=True),
        sa.Column("books_count", sa.Integer(), nullable=False),
        sa.Column("has_tv", sa.Boolean(), nullable=False),
        sa.Column("has_phone", sa.Boolean(), nullable=False),
        sa.Column("has_computer", sa.Boolean(), nullable=False),
        sa.Column("has_video_call", sa.Boolean(), nullable=False),
        sa.Column("desks", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=32), nullable=False),
        sa.Column("last_inspected_on", sa.Date(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["manager_member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_member_id"],
            ["member.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("children_home", schema=None) as batch_op:
        batch_op.create_index(
            "ix_children_home_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_children_home_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_children_home_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_children_home_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_children_home_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_children_home_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_children_home_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_children_home_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_children_home_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_children_home_condition"), ["condition"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_children_home_manager_member_id"), ["manager_member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_children_home_supervisor_member_id"), ["supervisor_member_id"], unique=False
        )

    op.create_table(
        "family_call_session",
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("with_whom", sa.String(length=16), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
        ),
        sa.ForeignKeyConstraint(
            ["home_id"],
            ["children_home.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("family_call_session", schema=None) as batch_op:
        batch_op.create_index("ix_family_call_session_a1_held_on", ["a1", "held_on"], unique=False)
        batch_op.create_index("ix_family_call_session_a2_held_on", ["a2", "held_on"], unique=False)
        batch_op.create_index("ix_family_call_session_a3_held_on", ["a3", "held_on"], unique=False)
        batch_op.create_index("ix_family_call_session_a4_held_on", ["a4", "held_on"], unique=False)
        batch_op.create_index("ix_family_call_session_a5_held_on", ["a5", "held_on"], unique=False)
        batch_op.create_index("ix_family_call_session_a6_held_on", ["a6", "held_on"], unique=False)
        batch_op.create_index("ix_family_call_session_a7_held_on", ["a7", "held_on"], unique=False)
        batch_op.create_index("ix_family_call_session_a8_held_on", ["a8", "held_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_call_session_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_call_session_child_id"), ["child_id"], unique=False)
        batch_op.create_index("ix_family_call_session_home_on", ["home_id", "held_on"], unique=False)

    op.create_table(
        "home_inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspector_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("inspector_user_id", sa.Integer(), nullable=True),
        sa.Column("findings", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("condition", sa.String(length=32), nullable=False),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_id"],
            ["children_home.id"],
        ),
        sa.ForeignKeyConstraint(
            ["inspector_user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("home_inspection", schema=None) as batch_op:
        batch_op.create_index("ix_home_inspection_home_on", ["home_id", "inspected_on"], unique=False)

    op.create_table(
        "pairing",
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("carer_kind", sa.String(length=16), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("carer_user_id", sa.Integer(), nullable=True),
        sa.Column("carer_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=False),
        sa.Column("consent_by_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("consent_by_relation", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("planned_end_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("visit_every_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_visit_on", sa.Date(), nullable=True),
        sa.Column("next_visit_due_on", sa.Date(), nullable=True),
        sa.Column("overdue_flagged_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["carer_user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pairing", schema=None) as batch_op:
        batch_op.create_index("ix_pairing_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_pairing_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_pairing_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_pairing_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_pairing_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_pairing_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_pairing_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False)
        batch_op.create_index("ix_pairing_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pairing_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pairing_carer_user_id"), ["carer_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pairing_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pairing_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pairing_status"), ["status"], unique=False)
        batch_op.create_index("ix_pairing_status_due", ["status", "next_visit_due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_pairing_volunteer_id"), ["volunteer_id"], unique=False)
        batch_op.create_index(
            "uq_pairing_active_child",
            ["child_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "pairing_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pairing_id"],
            ["pairing.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pairing_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pairing_event_pairing_id"), ["pairing_id"], unique=False)

    op.create_table(
        "visit",
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("done", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("study", sa.String(length=16), nullable=True),
        sa.Column("health", sa.String(length=16), nullable=True),
        sa.Column("mood", sa.String(length=16), nullable=True),
        sa.Column("problems", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("rights_issue", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("photo_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
        ),
        sa.ForeignKeyConstraint(
            ["pairing_id"],
            ["pairing.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_a1_visited_on", ["a1", "visited_on"], unique=False)
        batch_op.create_index("ix_visit_a2_visited_on", ["a2", "visited_on"], unique=False)
        batch_op.create_index("ix_visit_a3_visited_on", ["a3", "visited_on"], unique=False)
        batch_op.create_index("ix_visit_a4_visited_on", ["a4", "visited_on"], unique=False)
        batch_op.create_index("ix_visit_a5_visited_on", ["a5", "visited_on"], unique=False)
        batch_op.create_index("ix_visit_a6_visited_on", ["a6", "visited_on"], unique=False)
        batch_op.create_index("ix_visit_a7_visited_on", ["a7", "visited_on"], unique=False)
        batch_op.create_index("ix_visit_a8_visited_on", ["a8", "visited_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_child_id"), ["child_id"], unique=False)
        batch_op.create_index("ix_visit_pairing_on", ["pairing_id", "visited_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "visit_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
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
            ["visit_id"],
            ["visit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_id", "sha256", name="uq_visit_photo_content"),
    )
    with op.batch_alter_table("visit_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_photo_visit_id"), ["visit_id"], unique=False)

    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_activity_home_id"), ["home_id"], unique=False)
        batch_op.create_foreign_key("fk_activity_home_id_children_home", "children_home", ["home_id"], ["id"])

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("child_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_ticket_child_id"), ["child_id"], unique=False)
        batch_op.create_foreign_key("fk_ticket_child_id_child", "child", ["child_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ticket_child_id_child", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_ticket_child_id"))
        batch_op.drop_column("child_id")

    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_constraint("fk_activity_home_id_children_home", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_activity_home_id"))
        batch_op.drop_column("home_id")

    with op.batch_alter_table("visit_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_photo_visit_id"))

    op.drop_table("visit_photo")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_ticket_id"))
        batch_op.drop_index("ix_visit_pairing_on")
        batch_op.drop_index(batch_op.f("ix_visit_child_id"))
        batch_op.drop_index(batch_op.f("ix_visit_branch_id"))
        batch_op.drop_index("ix_visit_a8_visited_on")
        batch_op.drop_index("ix_visit_a7_visited_on")
        batch_op.drop_index("ix_visit_a6_visited_on")
        batch_op.drop_index("ix_visit_a5_visited_on")
        batch_op.drop_index("ix_visit_a4_visited_on")
        batch_op.drop_index("ix_visit_a3_visited_on")
        batch_op.drop_index("ix_visit_a2_visited_on")
        batch_op.drop_index("ix_visit_a1_visited_on")

    op.drop_table("visit")
    with op.batch_alter_table("pairing_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pairing_event_pairing_id"))

    op.drop_table("pairing_event")
    with op.batch_alter_table("pairing", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_pairing_active_child",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_pairing_volunteer_id"))
        batch_op.drop_index("ix_pairing_status_due")
        batch_op.drop_index(batch_op.f("ix_pairing_status"))
        batch_op.drop_index(batch_op.f("ix_pairing_member_id"))
        batch_op.drop_index(batch_op.f("ix_pairing_child_id"))
        batch_op.drop_index(batch_op.f("ix_pairing_carer_user_id"))
        batch_op.drop_index(batch_op.f("ix_pairing_branch_id"))
        batch_op.drop_index("ix_pairing_a8_created_at")
        batch_op.drop_index("ix_pairing_a7_created_at")
        batch_op.drop_index("ix_pairing_a6_created_at")
        batch_op.drop_index("ix_pairing_a5_created_at")
        batch_op.drop_index("ix_pairing_a4_created_at")
        batch_op.drop_index("ix_pairing_a3_created_at")
        batch_op.drop_index("ix_pairing_a2_created_at")
        batch_op.drop_index("ix_pairing_a1_created_at")

    op.drop_table("pairing")
    with op.batch_alter_table("home_inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_home_inspection_home_on")

    op.drop_table("home_inspection")
    with op.batch_alter_table("family_call_session", schema=None) as batch_op:
        batch_op.drop_index("ix_family_call_session_home_on")
        batch_op.drop_index(batch_op.f("ix_family_call_session_child_id"))
        batch_op.drop_index(batch_op.f("ix_family_call_session_branch_id"))
        batch_op.drop_index("ix_family_call_session_a8_held_on")
        batch_op.drop_index("ix_family_call_session_a7_held_on")
        batch_op.drop_index("ix_family_call_session_a6_held_on")
        batch_op.drop_index("ix_family_call_session_a5_held_on")
        batch_op.drop_index("ix_family_call_session_a4_held_on")
        batch_op.drop_index("ix_family_call_session_a3_held_on")
        batch_op.drop_index("ix_family_call_session_a2_held_on")
        batch_op.drop_index("ix_family_call_session_a1_held_on")

    op.drop_table("family_call_session")
    with op.batch_alter_table("children_home", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_children_home_supervisor_member_id"))
        batch_op.drop_index(batch_op.f("ix_children_home_manager_member_id"))
        batch_op.drop_index(batch_op.f("ix_children_home_condition"))
        batch_op.drop_index(batch_op.f("ix_children_home_branch_id"))
        batch_op.drop_index("ix_children_home_a8_created_at")
        batch_op.drop_index("ix_children_home_a7_created_at")
        batch_op.drop_index("ix_children_home_a6_created_at")
        batch_op.drop_index("ix_children_home_a5_created_at")
        batch_op.drop_index("ix_children_home_a4_created_at")
        batch_op.drop_index("ix_children_home_a3_created_at")
        batch_op.drop_index("ix_children_home_a2_created_at")
        batch_op.drop_index("ix_children_home_a1_created_at")

    op.drop_table("children_home")
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_index("ix_child_status_birth_date")
        batch_op.drop_index(batch_op.f("ix_child_status"))
        batch_op.drop_index(batch_op.f("ix_child_school"))
        batch_op.drop_index(batch_op.f("ix_child_category"))
        batch_op.drop_index(batch_op.f("ix_child_branch_id"))
        batch_op.drop_index("ix_child_a8_created_at")
        batch_op.drop_index("ix_child_a7_created_at")
        batch_op.drop_index("ix_child_a6_created_at")
        batch_op.drop_index("ix_child_a5_created_at")
        batch_op.drop_index("ix_child_a4_created_at")
        batch_op.drop_index("ix_child_a3_created_at")
        batch_op.drop_index("ix_child_a2_created_at")
        batch_op.drop_index("ix_child_a1_created_at")

    op.drop_table("child")
