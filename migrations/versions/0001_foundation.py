"""foundation: branches, users, clients, tokens, audit, idempotency

Revision ID: 0001
Revises:
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import backend.core.db


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_a1_at", ["a1", "at"], unique=False)
        batch_op.create_index("ix_audit_log_a2_at", ["a2", "at"], unique=False)
        batch_op.create_index("ix_audit_log_a3_at", ["a3", "at"], unique=False)
        batch_op.create_index("ix_audit_log_a4_at", ["a4", "at"], unique=False)
        batch_op.create_index("ix_audit_log_a5_at", ["a5", "at"], unique=False)
        batch_op.create_index("ix_audit_log_a6_at", ["a6", "at"], unique=False)
        batch_op.create_index("ix_audit_log_a7_at", ["a7", "at"], unique=False)
        batch_op.create_index("ix_audit_log_a8_at", ["a8", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_entity"), ["entity"], unique=False)

    op.create_table(
        "branch",
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=True),
        sa.Column("a2", sa.Integer(), nullable=True),
        sa.Column("a3", sa.Integer(), nullable=True),
        sa.Column("a4", sa.Integer(), nullable=True),
        sa.Column("a5", sa.Integer(), nullable=True),
        sa.Column("a6", sa.Integer(), nullable=True),
        sa.Column("a7", sa.Integer(), nullable=True),
        sa.Column("a8", sa.Integer(), nullable=True),
        sa.Column("chair_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("chair_phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("term_started_on", sa.Date(), nullable=True),
        sa.Column("term_due_on", sa.Date(), nullable=True),
        sa.Column("womens_home", sa.JSON(), nullable=True),
        sa.Column("deleted_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.create_index("ix_branch_a1_code", ["a1", "code", "deleted_at"], unique=False)
        batch_op.create_index("ix_branch_a2_code", ["a2", "code", "deleted_at"], unique=False)
        batch_op.create_index("ix_branch_a3_code", ["a3", "code", "deleted_at"], unique=False)
        batch_op.create_index("ix_branch_a4_code", ["a4", "code", "deleted_at"], unique=False)
        batch_op.create_index("ix_branch_a5_code", ["a5", "code", "deleted_at"], unique=False)
        batch_op.create_index("ix_branch_a6_code", ["a6", "code", "deleted_at"], unique=False)
        batch_op.create_index("ix_branch_a7_code", ["a7", "code", "deleted_at"], unique=False)
        batch_op.create_index("ix_branch_a8_code", ["a8", "code", "deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_branch_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_branch_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index("ix_branch_path", ["path"], unique=False)
        batch_op.create_index(batch_op.f("ix_branch_term_due_on"), ["term_due_on"], unique=False)

    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_type", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("response_location", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject", "key", name="uq_idempotency_subject_key"),
    )
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_key_created_at"), ["created_at"], unique=False)

    op.create_table(
        "revoked_token",
        sa.Column("jti", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti"),
    )
    with op.batch_alter_table("revoked_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revoked_token_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "api_client",
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
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.create_index("ix_api_client_a1_created_at", ["a1", "created_at"], unique=False)
        batch_op.create_index("ix_api_client_a2_created_at", ["a2", "created_at"], unique=False)
        batch_op.create_index("ix_api_client_a3_created_at", ["a3", "created_at"], unique=False)
        batch_op.create_index("ix_api_client_a4_created_at", ["a4", "created_at"], unique=False)
        batch_op.create_index("ix_api_client_a5_created_at", ["a5", "created_at"], unique=False)
        batch_op.create_index("ix_api_client_a6_created_at", ["a6", "created_at"], unique=False)
        batch_op.create_index("ix_api_client_a7_created_at", ["a7", "created_at"], unique=False)
        batch_op.create_index("ix_api_client_a8_created_at", ["a8", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_client_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "user",
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
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index("ix_user_a1_created_at", ["a1", "created_at"], unique=False)
        batch_op.create_index("ix_user_a2_created_at", ["a2", "created_at"], unique=False)
        batch_op.create_index("ix_user_a3_created_at", ["a3", "created_at"], unique=False)
        batch_op.create_index("ix_user_a4_created_at", ["a4", "created_at"], unique=False)
        batch_op.create_index("ix_user_a5_created_at", ["a5", "created_at"], unique=False)
        batch_op.create_index("ix_user_a6_created_at", ["a6", "created_at"], unique=False)
        batch_op.create_index("ix_user_a7_created_at", ["a7", "created_at"], unique=False)
        batch_op.create_index("ix_user_a8_created_at", ["a8", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "refresh_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("family_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", backend.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", backend.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_token_family_id"), ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refresh_token_user_id"), ["user_id"], unique=False)

    _audit_append_only()


_PROTECTED = "at, actor, actor_name, action, entity, entity_id, field, before, after, ip"


def _audit_append_only() -> None:
    """The audit trail cannot be edited or deleted; only its ancestor columns follow a moved subtree."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql
        """)
        op.execute(
            f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE OF {_PROTECTED} ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE OF {_PROTECTED} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS audit_log_no_update"
        + (" ON audit_log" if op.get_bind().dialect.name == "postgresql" else "")
    )
    op.execute(
        "DROP TRIGGER IF EXISTS audit_log_no_delete"
        + (" ON audit_log" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_refresh_token_family_id"))

    op.drop_table("refresh_token")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_branch_id"))
        batch_op.drop_index("ix_user_a8_created_at")
        batch_op.drop_index("ix_user_a7_created_at")
        batch_op.drop_index("ix_user_a6_created_at")
        batch_op.drop_index("ix_user_a5_created_at")
        batch_op.drop_index("ix_user_a4_created_at")
        batch_op.drop_index("ix_user_a3_created_at")
        batch_op.drop_index("ix_user_a2_created_at")
        batch_op.drop_index("ix_user_a1_created_at")

    op.drop_table("user")
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_client_branch_id"))
        batch_op.drop_index("ix_api_client_a8_created_at")
        batch_op.drop_index("ix_api_client_a7_created_at")
        batch_op.drop_index("ix_api_client_a6_created_at")
        batch_op.drop_index("ix_api_client_a5_created_at")
        batch_op.drop_index("ix_api_client_a4_created_at")
        batch_op.drop_index("ix_api_client_a3_created_at")
        batch_op.drop_index("ix_api_client_a2_created_at")
        batch_op.drop_index("ix_api_client_a1_created_at")

    op.drop_table("api_client")
    with op.batch_alter_table("revoked_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_token_expires_at"))

    op.drop_table("revoked_token")
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_key_created_at"))

    op.drop_table("idempotency_key")
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_branch_term_due_on"))
        batch_op.drop_index("ix_branch_path")
        batch_op.drop_index(batch_op.f("ix_branch_parent_id"))
        batch_op.drop_index(batch_op.f("ix_branch_kind"))
        batch_op.drop_index("ix_branch_a8_code")
        batch_op.drop_index("ix_branch_a7_code")
        batch_op.drop_index("ix_branch_a6_code")
        batch_op.drop_index("ix_branch_a5_code")
        batch_op.drop_index("ix_branch_a4_code")
        batch_op.drop_index("ix_branch_a3_code")
        batch_op.drop_index("ix_branch_a2_code")
        batch_op.drop_index("ix_branch_a1_code")

    op.drop_table("branch")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_entity"))
        batch_op.drop_index(batch_op.f("ix_audit_log_branch_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))
        batch_op.drop_index("ix_audit_log_a8_at")
        batch_op.drop_index("ix_audit_log_a7_at")
        batch_op.drop_index("ix_audit_log_a6_at")
        batch_op.drop_index("ix_audit_log_a5_at")
        batch_op.drop_index("ix_audit_log_a4_at")
        batch_op.drop_index("ix_audit_log_a3_at")
        batch_op.drop_index("ix_audit_log_a2_at")
        batch_op.drop_index("ix_audit_log_a1_at")

    op.drop_table("audit_log")
