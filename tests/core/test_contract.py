"""The OpenAPI contract partners generate clients from: strict bodies, plain names, documented errors."""

import inspect
import typing

from pydantic import BaseModel
from sqlmodel import select

from backend.auth.models import User
from backend.core.routes import api_routes
from backend.main import create_app
from backend.openapi import openapi_document
from tests.conftest import make_user


def _models(tp, found: set[type[BaseModel]]) -> None:
    if typing.get_origin(tp) is not None:
        for arg in typing.get_args(tp):
            _models(arg, found)
    elif inspect.isclass(tp) and issubclass(tp, BaseModel) and tp not in found:
        found.add(tp)
        for field in tp.model_fields.values():
            _models(field.annotation, found)


def test_every_request_body_model_refuses_unknown_fields(db):
    found: set[type[BaseModel]] = set()
    for info in api_routes(create_app(db)):
        for param in info.route.dependant.body_params:
            _models(param.field_info.annotation, found)
    assert len(found) > 50
    lax = sorted(f"{m.__module__}.{m.__name__}" for m in found if m.model_config.get("extra") != "forbid")
    assert lax == [], "request bodies must inherit backend.core.schemas.RequestModel"


def test_an_unknown_field_is_a_422_naming_it_and_changes_nothing(admin, tree, session):
    user = make_user(session, tree.village_a1, "village_rep", username="wang.fang")
    r = admin.patch(f"/api/v1/users/{user.id}", json={"active": False})
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in body["errors"]] == ["active"] and "active" in body["detail"]
    session.expire_all()
    assert session.exec(select(User).where(User.id == user.id)).one().is_active


def test_unknown_field_in_a_nested_body_is_named_with_its_path(admin, tree):
    r = admin.patch(
        f"/api/v1/branches/{tree.village_a1.id}", json={"womens_home": {"venue": "村部", "colour": "红"}}
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["womens_home.colour"]


def test_schema_names_are_plain_and_unique():
    doc = openapi_document()
    names = list(doc["components"]["schemas"])
    assert [n for n in names if "__" in n or n.endswith(("-Input", "-Output"))] == []
    assert {
        "BranchPublic",
        "ReportOverview",
        "VolunteerStats",
        "WomensHome",
        "WomensHomePublic",
        "Problem",
    } <= set(names)
    assert doc["info"]["title"].isascii()


def test_every_operation_documents_its_errors_as_problem_json():
    doc = openapi_document()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            errors = {s: r for s, r in op["responses"].items() if s[0] in "45"}
            assert "503" in errors, (method, path)
            for status, answer in errors.items():
                assert answer["content"] == problem, (method, path, status)
            if path not in (
                "/api/v1/health",
                "/api/v1/meta/dictionaries",
                "/api/v1/auth/token",
                "/api/v1/auth/refresh",
            ):
                assert {"401", "403"} <= errors.keys(), (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert "409" in errors, (method, path)
            if "requestBody" in op:
                assert {"413", "422"} <= errors.keys(), (method, path)
    assert "412" in doc["paths"]["/api/v1/tickets/{ticket_id}/actions/assign"]["post"]["responses"]
    assert "415" in doc["paths"]["/api/v1/activities/{activity_id}/photos"]["post"]["responses"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
