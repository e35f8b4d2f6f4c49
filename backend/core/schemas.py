"""Shapes every domain shares: the strict request body and the problem+json error body (a period: core.clock)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RequestModel(BaseModel):
    """Base of every request body: an unknown field is a 422 naming it, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str = Field(description="出错的字段,如 items.0.name")
    loc: list[str | int] = Field(default_factory=list)
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error answer (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str = Field(description="稳定的错误类型,urn:halfsky:problem:…")
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(default=None, description="422:每个出错字段及其说明")
    allowed: list[str] | None = Field(default=None, description="409 invalid-transition:当前允许的操作")


__all__ = ["RequestModel", "Problem", "FieldError", "Any"]
