"""Whole-app rules: every route is guarded, the schema matches the migrations, the OpenAPI file is current."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from backend.core.deps import get_principal, get_session
from backend.core.migrate import include_name
from backend.core.routes import api_routes
from backend.core.uow import UnitOfWorkRoute
from backend.main import create_app
from backend.meta.dictionaries import DICTIONARIES
from backend.openapi import openapi_document, render

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_PATHS = {"/api/v1/health", "/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/meta/dictionaries"}


def _permissions(dependant) -> set[str]:
    found = set()
    for dep in dependant.dependencies:
        marker = getattr(dep.call, "__permission__", None)
        if marker:
            found.add(marker)
        found |= _permissions(dep)
    return found


def test_every_route_requires_a_permission(db):
    app = create_app(db)
    unguarded, wrongly_public, seen = [], [], set()
    for info in api_routes(app):
        seen.add(info.path)
        marks = _permissions(info.route.dependant)
        if info.path in PUBLIC_PATHS or info.path == "/{full_path:path}":
            if marks != {"public"}:
                wrongly_public.append(info.path)
            continue
        if not marks or marks == {"public"}:
            unguarded.append(f"{sorted(info.methods)} {info.path}")
    assert {"/api/v1/branches", "/api/v1/users/{user_id}", "/api/v1/auth/me"} <= seen
    assert unguarded == []
    assert wrongly_public == []


def _calls(dependant) -> set:
    found = set()
    for dep in dependant.dependencies:
        found.add(dep.call)
        found |= _calls(dep)
    return found


def test_every_route_with_database_work_runs_as_one_unit_of_work(db):
    """A route outside the unit-of-work route class would never commit, or would hop threads holding a
    connection: every API route that touches the database or the caller's account must be one."""
    app = create_app(db)
    outside = []
    for info in api_routes(app):
        if info.path == "/{full_path:path}":
            continue
        calls = _calls(info.route.dependant)
        if (get_session in calls or get_principal in calls) and not isinstance(info.route, UnitOfWorkRoute):
            outside.append(f"{sorted(info.methods)} {info.path}")
    assert outside == []


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_openapi_document_is_current():
    committed = (ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert committed == render(openapi_document()), "openapi/openapi.json is stale: run `make openapi`"


def test_operation_ids_are_tag_name():
    doc = openapi_document()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            tag = op["tags"][0]
            assert op["operationId"].startswith(f"{tag}-"), (method, path, op["operationId"])


def test_health_answers_without_a_token(anon):
    r = anon.get("/api/v1/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_dictionaries_label_every_enum(anon):
    d = anon.get("/api/v1/meta/dictionaries").json()
    assert d["branch_kind"]["village"] == "村"
    assert d["role"]["cadre"].startswith("乡镇")
    # The whole table is served, every dictionary with labels for its values (what the SPA and partners read).
    assert d == DICTIONARIES
    assert all(values and all(label.strip() for label in values.values()) for values in d.values())
