import json
from pathlib import Path


def openapi_document() -> dict:
    from backend.core.db import Database, make_engine
    from backend.main import create_app

    app = create_app(Database(make_engine("sqlite://")))
    return app.openapi()


def render(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_openapi(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(openapi_document()), encoding="utf-8")
    return path


# The error answers an operation can give, derived once from what the route declares (its guard, its
# parameters, its body, its method), so a new route documents its errors without anyone listing them.
ERROR_DESCRIPTIONS = {
    400: "请求无法处理(如请求体不是 JSON、Idempotency-Key 无效、上传的文件无法读取)",
    401: "未登录、令牌无效或已过期",
    403: "当前角色没有此权限,或无权修改此记录",
    404: "记录不存在,或不在本人管辖范围内",
    409: "与现有数据冲突、当前状态不允许此操作(allowed 列出可做的步骤),或同一 Idempotency-Key 的请求仍在处理",
    412: "If-Match 版本与记录当前版本不符",
    413: "请求内容或文件太大",
    415: "文件类型不支持",
    422: "提交的内容有误:errors 逐项列出字段及说明(含不认识的字段)",
    503: "服务繁忙:内容未保存,按 Retry-After 秒后重试",
}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _guards(dependant) -> set[str]:
    found = set()
    for dep in dependant.dependencies:
        marker = getattr(dep.call, "__permission__", None)
        if marker:
            found.add(marker)
        found |= _guards(dep)
    return found


def _params(dependant, found: dict | None = None) -> dict[str, list]:
    """The route's parameters by where they come from, its dependencies' included."""
    found = found if found is not None else {"path": [], "query": [], "header": [], "body": []}
    for kind in found:
        found[kind].extend(getattr(dependant, f"{kind}_params"))
    for dep in dependant.dependencies:
        _params(dep, found)
    return found


def _has_upload(body_params) -> bool:
    return any("UploadFile" in str(p.field_info.annotation) for p in body_params)


def error_statuses(route, method: str) -> set[int]:
    """The error statuses `method` on `route` can answer; 503 (past capacity, database busy) for every one."""
    params = _params(route.dependant)
    guards = _guards(route.dependant)
    signed_in = bool(guards - {"public"})
    has_body = bool(params["body"])
    has_params = any(params.values())
    statuses = {503}
    if signed_in:
        statuses |= {401, 403}
        if has_params:
            statuses.add(
                404
            )  # a record, or a branch named in a filter or the body, outside the caller's subtree
    elif guards == {"public"} and method in _WRITE_METHODS:
        statuses |= {400, 401}  # the token endpoints: missing or wrong credentials
    if has_params:
        statuses.add(422)
    if method in _WRITE_METHODS:
        statuses.add(409)
    if method == "POST":
        statuses |= {400, 409, 422}  # Idempotency-Key: too long, still running, reused with another body
    if has_body:
        statuses |= {400, 413}  # a body that is not JSON (or not UTF-8) at all; one past the size limit
    if _has_upload(params["body"]):
        statuses |= {400, 415}
    if any(p.alias.lower() == "if-match" for p in params["header"]):
        statuses.add(412)
    return statuses


def problem_schema(document: dict) -> dict:
    """Adds the problem+json schema to the document's components; returns its reference."""
    from backend.core.schemas import Problem

    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    # `errors` and `allowed` come with some problems only: no default, so generated clients make them optional.
    for prop in schema["properties"].values():
        prop.pop("default", None)
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components["Problem"] = schema
    return {"$ref": "#/components/schemas/Problem"}


def document_errors(app, document: dict) -> dict:
    """Every operation lists its error answers as problem+json (the 422 FastAPI adds included)."""
    from backend.core.routes import api_routes

    ref = problem_schema(document)
    content = {"application/problem+json": {"schema": ref}}
    for info in api_routes(app):
        if not info.route.include_in_schema:
            continue
        ops = document["paths"].get(info.path, {})
        for method in info.methods:
            op = ops.get(method.lower())
            if op is None:
                continue
            responses = op.setdefault("responses", {})
            for status in sorted(error_statuses(info.route, method)):
                answer = responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
                if status == 422:
                    answer["description"] = ERROR_DESCRIPTIONS[422]
                    answer["content"] = content
                answer.setdefault("content", content)
                if status == 503:
                    answer["headers"] = {
                        "Retry-After": {"description": "几秒后可以重试", "schema": {"type": "integer"}}
                    }
    schemas = document["components"]["schemas"]
    text = json.dumps(document["paths"])
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}" not in text:
            schemas.pop(unused, None)
    return document


def install_contract(app) -> None:
    """The app serves (and `halfsky openapi` writes) the document with every error answer documented."""
    original = app.openapi
    processed: list[dict] = []

    def openapi() -> dict:
        document = original()  # FastAPI's own, cached on the app until its routes change
        if not processed or processed[-1] is not document:
            document_errors(app, document)
            processed[:] = [document]
        return document

    app.openapi = openapi
