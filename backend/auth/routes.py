from typing import Annotated, Literal

from fastapi import Form, Query

from backend.auth import service
from backend.auth.models import User
from backend.auth.roles import Role
from backend.auth.schemas import (
    LogoutRequest,
    MeResponse,
    PasswordReset,
    RefreshRequest,
    TokenResponse,
    UserCreate,
    UserList,
    UserPublic,
    UserUpdate,
)
from backend.core.deps import Authenticated, Public, SessionDep, UsersAdmin
from backend.core.errors import AppError, BadRequest
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.scope import get_scoped
from backend.core.uow import Router, reads_first

router = Router(prefix="/auth", tags=["auth"])
users_router = Router(prefix="/users", tags=["users"])


@router.post("/token", response_model=TokenResponse, dependencies=[Public])
@reads_first
def token(
    session: SessionDep,
    grant_type: Annotated[Literal["password", "client_credentials"], Form()],
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=128)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str, Form()] = "",
):
    """OAuth2 token endpoint: `password` for people, `client_credentials` for partner systems."""
    try:
        if grant_type == "password":
            if not username or not password:
                raise BadRequest("请输入用户名和密码")
            return service.login_with_password(session, username, password)
        if not client_id or not client_secret:
            raise BadRequest("缺少 client_id 或 client_secret")
        return service.login_with_client_credentials(session, client_id, client_secret)
    except AppError:
        # Failed attempts and lockouts must be kept even though the request fails.
        session.commit()
        raise


@router.post("/refresh", response_model=TokenResponse, dependencies=[Public])
def refresh(session: SessionDep, body: RefreshRequest):
    try:
        return service.refresh(session, body.refresh_token)
    except AppError:
        session.commit()
        raise


@router.post("/logout", status_code=204)
def logout(session: SessionDep, principal: Authenticated, body: LogoutRequest | None = None):
    service.logout(session, principal, body.refresh_token if body else None)


@router.get("/me", response_model=MeResponse)
def me(principal: Authenticated):
    return service.me_to_public(principal)


@users_router.get("", response_model=UserList, responses=LIST_RESPONSES)
def list_users(
    session: SessionDep,
    principal: UsersAdmin,
    page: PageDep,
    role: Role | None = None,
    branch_id: int | None = None,
    is_active: bool | None = None,
    under: Annotated[int | None, Query(description="只看某组织及其下级")] = None,
):
    return service.list_users(
        session, principal, page, role=role, branch_id=branch_id, is_active=is_active, under=under
    )


@users_router.post("", response_model=UserPublic, status_code=201)
def create_user(session: SessionDep, principal: UsersAdmin, body: UserCreate):
    return service.to_public(service.create_user(session, principal, body))


@users_router.get("/{user_id}", response_model=UserPublic)
def get_user(session: SessionDep, principal: UsersAdmin, user_id: int):
    return service.to_public(get_scoped(session, User, user_id, principal))


@users_router.patch("/{user_id}", response_model=UserPublic)
def update_user(session: SessionDep, principal: UsersAdmin, user_id: int, body: UserUpdate):
    user = get_scoped(session, User, user_id, principal)
    return service.to_public(service.update_user(session, principal, user, body))


@users_router.post("/{user_id}/actions/deactivate", response_model=UserPublic)
def deactivate_user(session: SessionDep, principal: UsersAdmin, user_id: int):
    user = get_scoped(session, User, user_id, principal)
    return service.to_public(service.set_active(session, principal, user, False))


@users_router.post("/{user_id}/actions/activate", response_model=UserPublic)
def activate_user(session: SessionDep, principal: UsersAdmin, user_id: int):
    user = get_scoped(session, User, user_id, principal)
    return service.to_public(service.set_active(session, principal, user, True))


@users_router.post("/{user_id}/actions/reset-password", response_model=UserPublic)
def reset_password(session: SessionDep, principal: UsersAdmin, user_id: int, body: PasswordReset):
    user = get_scoped(session, User, user_id, principal)
    return service.to_public(service.reset_password(session, principal, user, body.password))
