"""Typed dependencies: the request's session and the calling principal, with one alias per permission."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from backend.core.db import utcnow
from backend.core.errors import Forbidden, Unauthorized
from backend.core.scope import Principal
from backend.core.security import decode_access_token
from backend.core.uow import PendingPrincipal, unit_of_work

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_session(request: Request) -> Session:
    """The request's session: one transaction, committed when the handler returns (see backend.core.uow)."""
    return unit_of_work(request).session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Accounts:
    """What the core needs to know about accounts, registered by the domain that owns them (`auth`).

    `statement(kind)`: a select of the account behind a token with its branch and whether the token was revoked,
    taking bound parameters `id` and `jti`, answering the columns `principal_from_claims` reads.
    `permissions(role)`: the permissions a role holds.
    """

    statement: Callable[[str], sa.Select]
    permissions: Callable[[str], frozenset[str]]


_accounts: list[Accounts] = []


def register_accounts(
    statement: Callable[[str], sa.Select], permissions: Callable[[str], frozenset[str]]
) -> None:
    _accounts[:] = [Accounts(statement, permissions)]


def accounts() -> Accounts:
    if not _accounts:
        raise RuntimeError("no account source registered: import backend.auth.service (create_app does)")
    return _accounts[0]


async def get_principal(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """Checks the token's signature here; the account itself is checked in the unit of work, on its connection."""
    if not token:
        raise Unauthorized("请先登录")
    claims = decode_access_token(token)
    unit_of_work(request).claims = claims
    return PendingPrincipal(accounts().permissions(str(claims.get("role"))))  # type: ignore[return-value]


def principal_from_claims(session: Session, claims: dict) -> Principal:
    """The calling account as it is now: deactivation, a role change, a branch move or logout take effect at once."""
    source = accounts()
    kind, _, raw_id = str(claims["sub"]).partition(":")
    if kind not in ("user", "client") or not raw_id.isdigit():
        raise Unauthorized("令牌无效")
    row = (
        session.connection()
        .execute(source.statement(kind), {"id": int(raw_id), "jti": claims["jti"]})
        .first()
    )
    if row is not None and row.revoked:
        raise Unauthorized("登录已退出,请重新登录")
    if row is None or not row.is_active or row.deleted_at is not None:
        raise Unauthorized("账号不存在或已停用")
    if row.role != claims.get("role") or row.branch_id != claims.get("branch"):
        raise Unauthorized("账号权限已变更,请重新登录")
    return Principal(
        kind=kind,
        id=row.id,
        name=row.name,
        role=row.role,
        branch_id=row.branch_id,
        branch_depth=row.depth,
        branch_path=row.path,
        permissions=source.permissions(row.role),
        jti=claims["jti"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        login=row.login,
        branch_name=row.branch_name,
        branch_kind=row.branch_kind,
        branch_code=row.branch_code,
    )


def require(permission: str | None):
    """A dependency that admits principals holding `permission` (None: any signed-in principal)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if permission is not None and not principal.can(permission):
            raise Forbidden(f"当前角色没有「{permission}」权限")
        return principal

    dependency.__permission__ = permission or "authenticated"  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{(permission or 'authenticated').replace(':', '_')}"
    return dependency


async def public(request: Request) -> None:
    """Marks a route as deliberately open to anyone (health check, login)."""


public.__permission__ = "public"  # type: ignore[attr-defined]

Authenticated = Annotated[Principal, Depends(require(None))]
Public = Depends(public)


def perm(permission: str):
    """`Annotated` alias for a permission: `TicketsWrite = perm("tickets:write")`."""
    return Annotated[Principal, Depends(require(permission))]


BranchesRead = perm("branches:read")
BranchesWrite = perm("branches:write")
UsersAdmin = perm("users:admin")
AuditRead = perm("audit:read")
SettingsAdmin = perm("settings:admin")


__all__ = ["SessionDep", "Authenticated", "perm", "require", "utcnow"]
