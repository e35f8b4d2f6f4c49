import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.auth.roles import HUMAN_ROLES, Role
from backend.core.paging import Page
from backend.core.schemas import RequestModel


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = None


class RefreshRequest(RequestModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class LogoutRequest(RequestModel):
    refresh_token: str | None = Field(default=None, max_length=200)


class BranchRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    path: str
    code: str | None = None
    depth: int | None = None


class MeUser(BaseModel):
    id: int
    kind: str
    username: str
    display_name: str


class MeResponse(BaseModel):
    user: MeUser
    role: str
    branch: BranchRef
    permissions: list[str]


def _check_password(value: str) -> str:
    if len(value) < 10:
        raise ValueError("密码至少 10 位")
    if not re.search(r"[A-Za-z]", value) or not re.search(r"\d", value):
        raise ValueError("密码须同时包含字母和数字")
    return value


class UserCreate(RequestModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    display_name: str = Field(min_length=1, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    role: Role
    branch_id: int
    password: str = Field(max_length=128)

    _password = field_validator("password")(_check_password)

    @field_validator("role")
    @classmethod
    def _human(cls, value: Role) -> Role:
        if value not in HUMAN_ROLES:
            raise ValueError("接口客户端角色不能分配给用户")
        return value


class UserUpdate(RequestModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    role: Role | None = None
    branch_id: int | None = None

    @field_validator("role")
    @classmethod
    def _human(cls, value: Role | None) -> Role | None:
        if value is not None and value not in HUMAN_ROLES:
            raise ValueError("接口客户端角色不能分配给用户")
        return value


class PasswordReset(RequestModel):
    password: str = Field(max_length=128)

    _password = field_validator("password")(_check_password)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    phone: str | None
    role: str
    branch_id: int
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime


class UserList(Page[UserPublic]):
    pass
