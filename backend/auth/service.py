"""Logins, tokens and user administration. No HTTP here."""

import functools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.auth.models import ApiClient, RefreshToken, RevokedToken, User
from backend.auth.roles import ROLE_RANK, Role, permissions_for
from backend.auth.schemas import (
    BranchRef,
    MeResponse,
    MeUser,
    TokenResponse,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from backend.branches.models import Branch
from backend.core import audit
from backend.core.config import get_settings
from backend.core.db import Database, begin_write, utcnow
from backend.core.deps import register_accounts
from backend.core.errors import Conflict, Forbidden, InvalidCredentials, Unauthorized, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.queue import task
from backend.core.scope import Principal, get_scoped, scoped, within
from backend.core.security import (
    create_access_token,
    dummy_hash,
    hash_password,
    new_opaque_token,
    token_digest,
    verify_password,
)


def _issue_refresh(session: Session, user: User, family_id: str | None = None) -> str:
    token = new_opaque_token()
    session.add(
        RefreshToken(
            token_hash=token_digest(token),
            family_id=family_id or uuid.uuid4().hex,
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=get_settings().refresh_token_days),
        )
    )
    return token


def _tokens_for_user(session: Session, user: User, family_id: str | None = None) -> TokenResponse:
    access, _jti, lifetime = create_access_token(
        subject=f"user:{user.id}", role=user.role, branch_id=user.branch_id
    )
    refresh = _issue_refresh(session, user, family_id)
    return TokenResponse(access_token=access, expires_in=lifetime, refresh_token=refresh)


def login_with_password(session: Session, username: str, password: str) -> TokenResponse:
    """Password grant. Any failure answers the same, whether the username exists or not.

    The route's unit starts as a read: the hash is checked holding no lock, then `begin_write` takes the write
    lock and the account is read again (locked on PostgreSQL), so concurrent attempts count every failure.
    Failures are flushed before raising: the caller must commit them, or the lockout never counts.
    """
    settings = get_settings()
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        verify_password(password, dummy_hash())
        begin_write(session)
        audit.record(session, "login_failed", actor=f"username:{username[:40]}", after={"reason": "unknown"})
        raise InvalidCredentials()
    correct = (user.locked_until is None or user.locked_until <= utcnow()) and verify_password(
        password, user.password_hash
    )
    begin_write(session)
    session.refresh(user, with_for_update=True)
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        audit.record(
            session,
            "login_failed",
            actor=f"user:{user.id}",
            actor_name=user.display_name,
            entity="user",
            entity_id=user.id,
            placed_in=user,
            after={"reason": "locked"},
        )
        raise InvalidCredentials()
    if not correct or not user.is_active:
        user.failed_logins += 1
        reason = "inactive" if user.is_active is False else "password"
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
            reason = "locked_now"
        audit.record(
            session,
            "login_failed",
            actor=f"user:{user.id}",
            actor_name=user.display_name,
            entity="user",
            entity_id=user.id,
            placed_in=user,
            after={"reason": reason},
        )
        raise InvalidCredentials()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(
        session,
        "login",
        actor=f"user:{user.id}",
        actor_name=user.display_name,
        entity="user",
        entity_id=user.id,
        placed_in=user,
    )
    return _tokens_for_user(session, user)


def login_with_client_credentials(session: Session, client_id: str, client_secret: str) -> TokenResponse:
    client = session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    if client is None:
        verify_password(client_secret, dummy_hash())
        raise InvalidCredentials("客户端标识或密钥错误")
    correct = verify_password(client_secret, client.secret_hash)
    begin_write(session)
    if not correct or not client.is_active:
        audit.record(
            session,
            "login_failed",
            actor=f"client:{client.id}",
            actor_name=client.name,
            entity="api_client",
            entity_id=client.id,
            placed_in=client,
        )
        raise InvalidCredentials("客户端标识或密钥错误")
    audit.record(
        session,
        "login",
        actor=f"client:{client.id}",
        actor_name=client.name,
        entity="api_client",
        entity_id=client.id,
        placed_in=client,
    )
    access, _jti, lifetime = create_access_token(
        subject=f"client:{client.id}", role=client.role, branch_id=client.branch_id
    )
    return TokenResponse(access_token=access, expires_in=lifetime)


def _revoke_family(session: Session, family_id: str) -> None:
    now = utcnow()
    for token in session.exec(select(RefreshToken).where(RefreshToken.family_id == family_id)):
        if token.revoked_at is None:
            token.revoked_at = now


def refresh(session: Session, refresh_token: str) -> TokenResponse:
    """Rotate a refresh token. Presenting one that was already rotated revokes its whole family.

    Like login failures, a detected reuse is flushed before raising and must be committed by the caller.
    """
    now = utcnow()
    # Locked on PostgreSQL: of two refreshes with the same token at once, the second sees the first's rotation.
    stored = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token)).with_for_update()
    ).first()
    if stored is None or stored.revoked_at is not None:
        raise Unauthorized("刷新令牌无效,请重新登录")
    if stored.rotated_at is not None:
        _revoke_family(session, stored.family_id)
        audit.record(
            session,
            "refresh_reuse",
            actor=f"user:{stored.user_id}",
            entity="refresh_token",
            entity_id=stored.family_id,
        )
        raise Unauthorized("刷新令牌已被使用过,为安全起见已注销该登录,请重新登录")
    if stored.expires_at <= now:
        raise Unauthorized("登录已过期,请重新登录")
    user = session.get(User, stored.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("账号不存在或已停用")
    stored.rotated_at = now
    return _tokens_for_user(session, user, stored.family_id)


def logout(session: Session, principal: Principal, refresh_token: str | None) -> None:
    if session.get(RevokedToken, principal.jti) is None:
        session.add(RevokedToken(jti=principal.jti, expires_at=principal.expires_at or utcnow()))
    if refresh_token:
        stored = session.exec(
            select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token))
        ).first()
        if stored is not None and principal.kind == "user" and stored.user_id == principal.id:
            _revoke_family(session, stored.family_id)
    audit.record(session, "logout", principal=principal)


def revoke_all_refresh_tokens(session: Session, user_id: int) -> None:
    now = utcnow()
    for token in session.exec(
        select(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    ):
        token.revoked_at = now


def purge_expired(session: Session, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    for row in session.exec(select(RevokedToken).where(RevokedToken.expires_at < now)):
        session.delete(row)


@task("cleanup.revoked_tokens", every_minutes=60)
def purge_revoked_tokens(db: Database) -> int:
    with db.session(write=True) as session:
        purge_expired(session)
    return 0


@functools.cache
def account_statement(kind: str) -> sa.Select:
    """The account behind a token, its branch and whether the token was revoked: one indexed round trip.

    Built once per kind (bound parameters): building and caching a statement costs more than running it."""
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


# The core checks every request's token against the account it names: auth tells it how.
register_accounts(account_statement, permissions_for)


def _check_grant(principal: Principal, role: Role) -> None:
    if ROLE_RANK[role] > ROLE_RANK[Role(principal.role)]:
        raise Forbidden(f"不能授予高于自己的角色「{role.value}」")


def create_user(session: Session, principal: Principal, data: UserCreate) -> User:
    _check_grant(principal, data.role)
    branch = get_scoped(session, Branch, data.branch_id, principal)
    if session.exec(select(User.id).where(User.username == data.username)).first() is not None:
        raise Conflict(
            f"用户名「{data.username}」已被使用",
            errors=[{"field": "username", "loc": ["username"], "message": "用户名已被使用"}],
        )
    user = User(
        username=data.username,
        display_name=data.display_name,
        phone=data.phone,
        role=data.role.value,
        password_hash=hash_password(data.password),
    )
    user.place_in(branch)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, principal: Principal, user: User, data: UserUpdate) -> User:
    changes = data.model_dump(exclude_unset=True)
    # Only a real change of role is checked, so an admin may edit the name of a peer.
    if changes.get("role") is not None and changes["role"] != user.role:
        _check_grant(principal, Role(changes["role"]))
    if ROLE_RANK[Role(user.role)] > ROLE_RANK[Role(principal.role)]:
        raise Forbidden("不能修改角色高于自己的用户")
    if "branch_id" in changes and changes["branch_id"] is not None and changes["branch_id"] != user.branch_id:
        branch = get_scoped(session, Branch, changes["branch_id"], principal)
        user.place_in(branch)
    for key in ("display_name", "phone"):
        if key in changes:
            if key == "display_name" and changes[key] is None:
                raise ValidationFailed("display_name", "姓名不能为空")
            setattr(user, key, changes[key])
    if changes.get("role") is not None:
        user.role = Role(changes["role"]).value
    user.updated_at = utcnow()
    session.flush()
    return user


def set_active(session: Session, principal: Principal, user: User, active: bool) -> User:
    if principal.kind == "user" and user.id == principal.id and not active:
        raise Conflict("不能停用自己的账号")
    if ROLE_RANK[Role(user.role)] > ROLE_RANK[Role(principal.role)]:
        raise Forbidden("不能停用角色高于自己的用户")
    user.is_active = active
    user.updated_at = utcnow()
    if not active:
        revoke_all_refresh_tokens(session, user.id)
    session.flush()
    return user


def reset_password(session: Session, principal: Principal, user: User, password: str) -> User:
    if ROLE_RANK[Role(user.role)] > ROLE_RANK[Role(principal.role)]:
        raise Forbidden("不能重置角色高于自己的用户的密码")
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.updated_at = utcnow()
    revoke_all_refresh_tokens(session, user.id)
    session.flush()
    return user


USER_COLUMNS = [
    Column("username", "用户名"),
    Column("display_name", "姓名"),
    Column("phone", "电话"),
    Column("role", "角色", "role"),
    Column("branch_id", "所属组织ID"),
    Column("is_active", "启用"),
    Column("last_login_at", "最近登录"),
    Column("created_at", "创建时间"),
]


def to_public(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


def me_to_public(principal: Principal) -> MeResponse:
    # Everything here was read with the account when the request was let in.
    branch = BranchRef(
        id=principal.branch_id,
        name=principal.branch_name,
        kind=principal.branch_kind,
        path=principal.branch_path,
        code=principal.branch_code,
        depth=principal.branch_depth,
    )
    return MeResponse(
        user=MeUser(
            id=principal.id, kind=principal.kind, username=principal.login, display_name=principal.name
        ),
        role=principal.role,
        branch=branch,
        permissions=sorted(principal.permissions),
    )


def list_users(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    role: Role | None = None,
    branch_id: int | None = None,
    is_active: bool | None = None,
    under: int | None = None,
) -> Any:
    stmt = scoped(select(User), principal)
    if role:
        stmt = stmt.where(User.role == role.value)
    if branch_id is not None:
        stmt = stmt.where(User.branch_id == branch_id)
    if is_active is not None:
        stmt = stmt.where(User.is_active == is_active)
    stmt = within(session, principal, stmt, User, under)
    return page.respond(
        session,
        stmt,
        to_public,
        sortable={"created_at": User.created_at, "username": User.username, "id": User.id},
        default_sort="username",
        search=[User.username, User.display_name],
        columns=USER_COLUMNS,
        filename="users",
    )
