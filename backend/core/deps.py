"""Typed dependencies: the request's session and the calling principal, with one alias per permission."""

import functools
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


async def get_principal(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """Checks the token's signature here; the account itself is checked in the unit of work, on its connection."""
    if not token:
        raise Unauthorized("请先登录")
    from backend.auth.roles import permissions_for

    claims = decode_access_token(token)
    unit_of_work(request).claims = claims
    return PendingPrincipal(permissions_for(str(claims.get("role"))))  # type: ignore[return-value]


@functools.cache
def _account_statement(kind: str) -> sa.Select:
    """The account behind a token, its branch and whether the token was revoked: one indexed round trip.

    Built once per kind (bound parameters): building and caching a statement costs more than running it."""
    from backend.auth.models import ApiClient, RevokedToken, User
    from backend.branches.models import Branch

    model = User if kind == "user" else ApiClient
    name = model.display_name if model is User else model.name
    login = model.username if model is User else model.name
    revoked = sa.select(RevokedToken.jti).where(RevokedToken.jti == sa.bindparam("jti")).exists()
    return (
        sa.select(
            model.id,
            name.label("name"),
            login.label("login"),
            model.role,
            model.is_active,
            model.branch_id,
            Branch.depth,
            Branch.path,
            Branch.name.label("branch_name"),
            Branch.kind.label("branch_kind"),
            Branch.code.label("branch_code"),
            Branch.deleted_at,
            revoked.label("revoked"),
        )
        .join(Branch, Branch.id == model.branch_id)
        .where(model.id == sa.bindparam("id"))
    )


def principal_from_claims(session: Session, claims: dict) -> Principal:
    """The calling account as it is now: deactivation, a role change, a branch move or logout take effect at once."""
    from backend.auth.roles import permissions_for

    kind, _, raw_id = str(claims["sub"]).partition(":")
    if kind not in ("user", "client") or not raw_id.isdigit():
        raise Unauthorized("令牌无效")
    row = (
        session.connection()
        .execute(_account_statement(kind), {"id": int(raw_id), "jti": claims["jti"]})
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
        permissions=permissions_for(row.role),
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
