"""Typed application errors and their RFC 9457 problem+json rendering."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "urn:halfsky:problem:"
log = logging.getLogger("halfsky")


class AppError(Exception):
    status = 400
    type = "bad-request"
    title = "请求有误"

    def __init__(self, detail: str | None = None, *, errors: list[dict] | None = None, **extra: Any):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status = 401
    type = "unauthorized"
    title = "未登录或登录已失效"

    def __init__(self, detail: str | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.headers = {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(Unauthorized):
    type = "invalid-credentials"
    title = "用户名或密码错误"


class Forbidden(AppError):
    status = 403
    type = "forbidden"
    title = "没有权限执行此操作"


class NotFound(AppError):
    status = 404
    type = "not-found"
    title = "记录不存在"


class Conflict(AppError):
    status = 409
    type = "conflict"
    title = "与现有数据冲突"


class Overloaded(AppError):
    """Past capacity: the request did nothing and may be sent again after `Retry-After` seconds."""

    status = 503
    type = "overloaded"
    title = "服务繁忙"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1):
        super().__init__(detail or "当前提交的人太多,请稍后再试(内容未保存,可直接重新提交)")
        self.headers = {"Retry-After": str(retry_after)}


def is_busy_database(exc: BaseException) -> bool:
    """The database could not take the work now (no free connection, SQLite's lock held too long, a lost
    connection): the client may send the same request again (with its Idempotency-Key)."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True  # the database went away (a restart): the pool is renewed, the request may be sent again
    if isinstance(exc, sa_exc.OperationalError):
        text = str(exc.orig).lower()
        return "database is locked" in text or "database is busy" in text or "too many clients" in text
    return False


class InvalidTransition(Conflict):
    type = "invalid-transition"
    title = "当前状态下不能执行此操作"

    def __init__(self, detail: str | None = None, *, allowed: list[str], **extra: Any):
        super().__init__(detail, allowed=allowed, **extra)


class PreconditionFailed(AppError):
    status = 412
    type = "version-mismatch"
    title = "记录已被他人修改,请刷新后重试"


class PayloadTooLarge(AppError):
    status = 413
    type = "payload-too-large"
    title = "文件太大"


class UnsupportedMedia(AppError):
    status = 415
    type = "unsupported-media-type"
    title = "文件类型不支持"


class ValidationFailed(AppError):
    """A rule the schema cannot express; names the fields like a 422 from the schema does."""

    status = 422
    type = "validation-error"
    title = "提交的内容有误"

    def __init__(self, field: str | list[str], message: str, **extra: Any):
        loc = field if isinstance(field, list) else [field]
        super().__init__(message, errors=[{"field": ".".join(loc), "loc": loc, "message": message}], **extra)


# Chinese wording of pydantic's error kinds, for people who fill in forms.
_MESSAGES = {
    "missing": "此项必填",
    "string_too_short": "至少需要 {min_length} 个字符",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为是或否",
    "bool_type": "应为是或否",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 ISO 8601,例如 2026-03-08T09:00:00+08:00",
    "datetime_from_date_parsing": "时间格式应为 ISO 8601,例如 2026-03-08T09:00:00+08:00",
    "datetime_type": "时间格式应为 ISO 8601",
    "timezone_aware": "时间须带时区",
    "enum": "取值应为:{expected}",
    "literal_error": "取值应为:{expected}",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_pattern_mismatch": "格式不正确",
    "extra_forbidden": "不认识的字段",
    "json_invalid": "请求体不是有效的 JSON",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "url_parsing": "网址格式不正确",
    "value_error": "{error}",
    "assertion_error": "{error}",
}


def _message(err: dict[str, Any]) -> str:
    template = _MESSAGES.get(err.get("type", ""))
    ctx = dict(err.get("ctx") or {})
    if "error" in ctx:
        ctx["error"] = str(ctx["error"]).removeprefix("Value error, ")
    if "expected" in ctx:
        ctx["expected"] = str(ctx["expected"]).replace("' or '", "', '").replace("'", "")
    if template:
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            pass
    return str(err.get("msg", "内容有误")).removeprefix("Value error, ")


def validation_errors(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors = []
    for err in raw:
        loc = [str(p) for p in err.get("loc", ())]
        # Drop the transport prefix (body/query/path) so `field` is what the form calls it.
        field_loc = (
            loc[1:] if loc and loc[0] in {"body", "query", "path", "header", "cookie", "form"} else loc
        )
        errors.append(
            {"field": ".".join(field_loc) or (loc[0] if loc else ""), "loc": loc, "message": _message(err)}
        )
    return errors


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_STATUS_TITLES = {
    400: ("bad-request", "请求有误"),
    401: ("unauthorized", "未登录或登录已失效"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not-found", "记录不存在"),
    405: ("method-not-allowed", "不支持此请求方法"),
    409: ("conflict", "与现有数据冲突"),
    413: ("payload-too-large", "请求内容太大"),
    415: ("unsupported-media-type", "内容类型不支持"),
    429: ("too-many-requests", "请求太频繁,请稍后再试"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError):
        return problem_response(exc.status, exc.body(), exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        errors = validation_errors(list(exc.errors()))
        fields = "、".join(e["field"] for e in errors if e["field"])
        body = {
            "type": PROBLEM_BASE + "validation-error",
            "title": "提交的内容有误",
            "status": 422,
            "detail": f"请检查:{fields}" if fields else "提交的内容有误",
            "errors": errors,
        }
        return problem_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        kind, title = _STATUS_TITLES.get(exc.status_code, ("http-error", "请求失败"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in {"Not Found"} else title
        body = {"type": PROBLEM_BASE + kind, "title": title, "status": exc.status_code, "detail": detail}
        return problem_response(exc.status_code, body, getattr(exc, "headers", None))

    @app.exception_handler(sa_exc.IntegrityError)
    async def _integrity(_request: Request, exc: sa_exc.IntegrityError):
        # A uniqueness race the service could not see coming (two submissions at once): nothing was written.
        log.info("integrity error turned into 409: %s", exc.orig)
        body = {
            "type": PROBLEM_BASE + "conflict",
            "title": "与现有数据冲突",
            "status": 409,
            "detail": "数据已被其他操作修改或已存在,请刷新后重试",
        }
        return problem_response(409, body)

    @app.exception_handler(sa_exc.DataError)
    @app.exception_handler(OverflowError)
    async def _out_of_range(_request: Request, exc: Exception):
        body = {
            "type": PROBLEM_BASE + "validation-error",
            "title": "提交的内容有误",
            "status": 422,
            "detail": "数值超出范围或格式不被数据库接受",
        }
        return problem_response(422, body)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        if is_busy_database(exc):
            log.warning("database busy, answered 503: %s", exc)
            busy = Overloaded(retry_after=2)
            return problem_response(busy.status, busy.body(), busy.headers)
        log.exception("unexpected error", exc_info=exc)
        body = {
            "type": PROBLEM_BASE + "internal-error",
            "title": "服务器内部错误",
            "status": 500,
            "detail": "服务器出错了,已记录,请稍后再试",
        }
        return problem_response(500, body)
