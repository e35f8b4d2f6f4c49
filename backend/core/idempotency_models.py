from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


class IdempotencyKey(SQLModel, table=True):
    """A POST's Idempotency-Key and the answer it got, replayed to retries for at least 24 hours."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("subject", "key", name="uq_idempotency_subject_key"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=64)
    key: str = Field(max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status: str = Field(default="in_progress", max_length=16)
    response_status: int | None = None
    response_body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    response_type: str | None = Field(default=None, max_length=200)
    response_location: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
