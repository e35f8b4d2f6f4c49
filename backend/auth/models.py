from datetime import datetime

from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.core.scope import BranchScoped, Timestamped, scope_indexes


class User(BranchScoped, Timestamped, table=True):
    __label__ = "用户"
    __table_args__ = scope_indexes("user")

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    role: str = Field(max_length=32)
    is_active: bool = True
    password_hash: str = Field(max_length=255)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    __audit_exclude__ = ("password_hash",)


class ApiClient(BranchScoped, Timestamped, table=True):
    """A partner system (health bureau, civil affairs) using the client-credentials grant."""

    __label__ = "接口客户端"
    __tablename__ = "api_client"
    __table_args__ = scope_indexes("api_client")

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=32)
    is_active: bool = True
    secret_hash: str = Field(max_length=255)

    __audit_exclude__ = ("secret_hash",)


class RefreshToken(SQLModel, table=True):
    """Opaque refresh tokens, stored hashed; each use rotates it within its family."""

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    family_id: str = Field(max_length=32, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RevokedToken(SQLModel, table=True):
    """Access tokens logged out before they expire (kept until their expiry)."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
