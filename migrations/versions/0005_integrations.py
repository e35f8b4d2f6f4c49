"""background tasks and integrations: the SQLite runner's task_run, the event outbox, webhook subscriptions and
deliveries, job attempts; on PostgreSQL, procrastinate's schema (so `halfsky migrate` is the only schema step)

Revision ID: 0005
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import backend.core.db


revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def _procrastinate_schema() -> str:
    # The schema of the installed procrastinate (3.x); a later procrastinate upgrade adds a migration that runs
    # its own migration files from procrastinate/sql/migrations.
    from importlib.resources import files

    return files("procrastinate.sql").joinpath("schema.sql").read_text()


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Through the driver, as one script: the SQL holds $$-quoted functions and no bind parameters.
        bind.connection.driver_connection.execute(_procrastinate_schema())
    op.create_table(
        "task_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("run_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("queueing_lock", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("period_key", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task", "period_key", name="uq_task_run_period"),
    )
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.create_index("ix_task_run_due", ["status", "run_at"], unique=False)
        batch_op.create_index(
            "uq_task_run_queueing_lock",
            ["queueing_lock"],
            unique=True,
            sqlite_where=sa.text("status = 'todo'"),
            postgresql_where=sa.text("status = 'todo'"),
        )

    op.create_table(
        "event",
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
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("occurred_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_a1_id", ["a1", "id"], unique=False)
        batch_op.create_index("ix_event_a2_id", ["a2", "id"], unique=False)
        batch_op.create_index("ix_event_a3_id", ["a3", "id"], unique=False)
        batch_op.create_index("ix_event_a4_id", ["a4", "id"], unique=False)
        batch_op.create_index("ix_event_a5_id", ["a5", "id"], unique=False)
        batch_op.create_index("ix_event_a6_id", ["a6", "id"], unique=False)
        batch_op.create_index("ix_event_a7_id", ["a7", "id"], unique=False)
        batch_op.create_index("ix_event_a8_id", ["a8", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_event_type_id", ["type", "id"], unique=False)

    op.create_table(
        "webhook_subscription",
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
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("previous_secret", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("previous_secret_expires_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("lease_until", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_subscription_a1_created_at", ["a1", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_subscription_a2_created_at", ["a2", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_subscription_a3_created_at", ["a3", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_subscription_a4_created_at", ["a4", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_subscription_a5_created_at", ["a5", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_subscription_a6_created_at", ["a6", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_subscription_a7_created_at", ["a7", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_subscription_a8_created_at", ["a8", "created_at", "deleted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhook_subscription_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_duration_ms", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_due", ["subscription_id", "status", "event_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhook_delivery_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_webhook_delivery_log", ["subscription_id", "id"], unique=False)

    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("failed_so_far", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("failed_so_far")
        batch_op.drop_column("attempts")

    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_log")
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_event_id"))
        batch_op.drop_index("ix_webhook_delivery_due")

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_subscription_branch_id"))
        batch_op.drop_index("ix_webhook_subscription_a8_created_at")
        batch_op.drop_index("ix_webhook_subscription_a7_created_at")
        batch_op.drop_index("ix_webhook_subscription_a6_created_at")
        batch_op.drop_index("ix_webhook_subscription_a5_created_at")
        batch_op.drop_index("ix_webhook_subscription_a4_created_at")
        batch_op.drop_index("ix_webhook_subscription_a3_created_at")
        batch_op.drop_index("ix_webhook_subscription_a2_created_at")
        batch_op.drop_index("ix_webhook_subscription_a1_created_at")

    op.drop_table("webhook_subscription")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_type_id")
        batch_op.drop_index(batch_op.f("ix_event_branch_id"))
        batch_op.drop_index("ix_event_a8_id")
        batch_op.drop_index("ix_event_a7_id")
        batch_op.drop_index("ix_event_a6_id")
        batch_op.drop_index("ix_event_a5_id")
        batch_op.drop_index("ix_event_a4_id")
        batch_op.drop_index("ix_event_a3_id")
        batch_op.drop_index("ix_event_a2_id")
        batch_op.drop_index("ix_event_a1_id")

    op.drop_table("event")
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_task_run_queueing_lock",
            sqlite_where=sa.text("status = 'todo'"),
            postgresql_where=sa.text("status = 'todo'"),
        )
        batch_op.drop_index("ix_task_run_due")

    op.drop_table("task_run")
    if op.get_bind().dialect.name == "postgresql":
        for kind, name in (
            ("TABLE", "procrastinate_events"),
            ("TABLE", "procrastinate_periodic_defers"),
            ("TABLE", "procrastinate_jobs"),
            ("TABLE", "procrastinate_workers"),
        ):
            op.execute(f"DROP {kind} IF EXISTS {name} CASCADE")
        op.execute(
            "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
            "procrastinate_job_status CASCADE"
        )
