"""Imports every table so `SQLModel.metadata` is complete (Alembic, tests, the app)."""

from backend.audit.models import AuditLog
from backend.auth.models import ApiClient, RefreshToken, RevokedToken, User
from backend.branches.models import Branch
from backend.core.idempotency_models import IdempotencyKey

__all__ = ["ApiClient", "AuditLog", "Branch", "IdempotencyKey", "RefreshToken", "RevokedToken", "User"]
