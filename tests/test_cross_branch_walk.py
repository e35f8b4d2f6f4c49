"""Every route of the served OpenAPI document, walked as every role against records of a sibling branch.

Each operation whose path names a record (`{..._id}`) is called, as each role, on a record made in a branch
outside the caller's subtree: the answer is 404 (403 only where the role lacks the route's permission
altogether), and nothing in the database changes. Every list is read row by row as each role: no row comes
from outside the caller's subtree. A new route on a known record kind is walked without anyone writing a test;
a new kind of record fails until `tests/walk_factories.py` can make one.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import SQLModel

from backend.auth.roles import MACHINE_ROLES, Role, permissions_for
from backend.core.db import Database
from backend.core.routes import api_routes
from backend.main import create_app
from backend.openapi import openapi_document
from tests.conftest import Api, Tree, build_tree, make_client_account, make_user
from tests.core.test_app import _permissions
from tests.walk_factories import FACTORIES, WALK_PASSWORD, SiblingRecords, png_bytes

# Where each role sits, and whose records are its sibling's: the other township's village for a township
# role, the neighbouring village for a village role. A new role is walked as a township role.
VILLAGE_ROLES = {Role.village_rep, Role.carer}
ROLES = [(role.value, "village_a1" if role in VILLAGE_ROLES else "town_a") for role in Role]
SIBLING = {"town_a": "village_b1", "village_a1": "village_a2"}
SUBTREE = {"town_a": ("town_a", "village_a1", "village_a2"), "village_a1": ("village_a1",)}

# Answers the walk found that are not 404, each with what would make it one; strict, so a fix shows up here.
# (operation, role) -> why a route does not answer 404 yet; each is an expected failure that must start passing.
KNOWN_FINDINGS: dict[tuple[str, str], str] = {}

# Path parameters that name no record of a branch, with the reason.
NOT_RECORDS = {"day": "a date of the county's working calendar, not a branch's record"}

_PARAM = re.compile(r"\{([^}]+)\}")
API = "/api/v1/"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    op: dict

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def key(self, param: str) -> str:
        """`activities/{activity_id}/photos/{photo_id}`: the path up to the parameter, which names the kind of
        record (a `photo_id` under activities is not one under visits)."""
        return self.path.split("{" + param + "}")[0].removeprefix(API) + "{" + param + "}"

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


DOCUMENT = openapi_document()
OPERATIONS = [Operation(m, p, op) for p, ops in DOCUMENT["paths"].items() for m, op in ops.items()]
ID_OPERATIONS = [op for op in OPERATIONS if any(p not in NOT_RECORDS for p in op.params)]


def _schema(ref_or_schema: dict) -> dict:
    schemas = DOCUMENT["components"]["schemas"]
    s = ref_or_schema
    while "$ref" in s:
        s = schemas[s["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in s and len(s["allOf"]) == 1:
        return _schema(s["allOf"][0])
    return s


def _response_items(op: Operation) -> dict | None:
    """The row schema of a list answer (`{items: [...]}`), or None when the operation answers no page."""
    ok = op.op.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
    if not ok:
        return None
    s = _schema(ok["schema"])
    items = s.get("properties", {}).get("items")
    if not items or _schema(items).get("type") != "array":
        return None
    return _schema(_schema(items)["items"])


LIST_OPERATIONS = [op for op in OPERATIONS if op.method == "get" and not op.params and _response_items(op)]


# Bodies whose schema holds a rule across fields (a validator the document cannot show): the fields that make
# them valid, keyed by the schema's name, merged over what `sample` builds from the required fields.
VALID_BODIES = {
    "CallbackBody": {"reached": False},
    "SignInCreate": {"head_count": 1},
}


def sample(schema: dict, name: str, own_branch: int):
    """A small value valid for the schema, so the request gets past validation to the handler."""
    s = _schema(schema)
    if "anyOf" in s:
        choices = [c for c in s["anyOf"] if _schema(c).get("type") != "null"]
        return sample(choices[0], name, own_branch)
    if "enum" in s:
        return s["enum"][0]
    if "const" in s:
        return s["const"]
    kind = s.get("type")
    if kind == "integer":
        if name in ("branch_id", "parent_id"):
            return own_branch
        return max(1, int(s.get("minimum", 1)))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        n = s.get("minItems", 0)
        return [sample(s["items"], name, own_branch) for _ in range(n)]
    if kind == "object":
        required = s.get("required", [])
        body = {k: sample(v, k, own_branch) for k, v in s.get("properties", {}).items() if k in required}
        return body | VALID_BODIES.get(s.get("title", ""), {})
    if kind == "string":
        fmt = s.get("format")
        if fmt == "date":
            return date.today().isoformat()
        if fmt == "date-time":
            return datetime.now(UTC).isoformat()
        if fmt in ("uri", "url"):
            return "https://receiver.example/hook"
        if "password" in name:
            return WALK_PASSWORD
        if s.get("pattern"):
            return "13900001111"
        return "走查" * max(1, (s.get("minLength", 1) + 1) // 2)
    return {}


@dataclass
class Request:
    json: dict | None = None
    files: dict | None = None
    data: dict | None = None
    params: dict | None = None


def request_for(op: Operation, own_branch: int, ids: dict[str, int] | None = None) -> Request:
    """`ids`: the path's record ids; a body field of the same name refers to that record (e.g. linking a ticket
    names a ticket), so it never points at an id the database happens not to have."""
    req = Request()
    query = {
        p["name"]: sample(p["schema"], p["name"], own_branch)
        for p in op.op.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    req.params = query or None
    content = op.op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        req.json = sample(content["application/json"]["schema"], "", own_branch)
        if isinstance(req.json, dict):
            req.json |= {k: v for k, v in (ids or {}).items() if k in req.json}
    elif "multipart/form-data" in content:
        s = _schema(content["multipart/form-data"]["schema"])
        req.files, req.data = {}, {}
        for k, v in s.get("properties", {}).items():
            if _schema(v).get("format") == "binary" or _schema(v).get("contentMediaType"):
                req.files[k] = ("walk.png", png_bytes(), "image/png")
            elif k in s.get("required", []):
                req.data[k] = sample(v, k, own_branch)
    return req


class World:
    """The fixed tree, a signed-in client per role, and sibling records, made once for the module."""

    def __init__(self, connection: sa.Connection, db: Database, session, tree: Tree):
        self.connection = connection
        self.db = db
        self.session = session
        self.tree = tree
        self.app = create_app(db)
        self.admin = Api(self.app, make_user(session, tree.county, "county_admin"), tree.county)
        self._clients: dict[tuple[str, str], Api] = {}
        self._records: dict[str, SiblingRecords] = {}
        self._fingerprint = None
        self.baseline: dict[str, list] | None = None
        self.permissions = {
            (method.lower(), info.path): _permissions(info.route.dependant)
            for info in api_routes(self.app)
            for method in info.methods
        }

    def branch(self, place: str):
        return getattr(self.tree, place)

    def client(self, role: str, place: str) -> Api:
        if (role, place) not in self._clients:
            branch = self.branch(place)
            if role in MACHINE_ROLES:
                account = make_client_account(self.session, branch, role, f"walk-{role}-{place}")
            else:
                account = make_user(self.session, branch, role)
            self._clients[(role, place)] = Api(self.app, account, branch)
        return self._clients[(role, place)]

    def records(self, place: str) -> SiblingRecords:
        if place not in self._records:
            seq = 900 + len(self._records)
            records = SiblingRecords(self.app, self.session, self.admin, self.branch(place), seq)
            for key in FACTORIES:
                records.id_for(key)
            self._records[place] = records
        return self._records[place]

    def subtree_ids(self, place: str) -> set[int]:
        return {self.branch(p).id for p in SUBTREE[place]}

    def snapshot(self) -> dict[str, list]:
        """Every row of every table."""
        q = self.connection.dialect.identifier_preparer.quote
        return {
            t.name: sorted(
                map(repr, self.connection.exec_driver_sql(f"SELECT * FROM {q(t.name)}").fetchall())
            )
            for t in SQLModel.metadata.sorted_tables
        }

    def fingerprint(self) -> dict[str, object]:
        """Per table its row count, latest `updated_at` and number of soft-deleted rows, in one query (it runs
        twice per call of the walk; `snapshot` compares every row once at the end)."""
        if self._fingerprint is None:
            parts = []
            for t in SQLModel.metadata.sorted_tables:
                parts.append(
                    sa.select(sa.func.count()).select_from(t).scalar_subquery().label(f"{t.name}.rows")
                )
                for col in ("updated_at", "deleted_at"):
                    if col in t.c:
                        agg = sa.func.max(t.c[col]) if col == "updated_at" else sa.func.count(t.c[col])
                        parts.append(sa.select(agg).scalar_subquery().label(f"{t.name}.{col}"))
            self._fingerprint = sa.select(*parts)
        return dict(self.connection.execute(self._fingerprint).one()._mapping)


@pytest.fixture(scope="module")
def world(engine):
    connection = engine.connect()
    outer = connection.begin()
    db = Database(connection, join_savepoints=True)
    try:
        with db.factory() as session:
            w = World(connection, db, session, build_tree(session))
            for place in SIBLING.values():
                w.records(place)
            for role, place in ROLES:
                w.client(role, place)
            yield w
    finally:
        outer.rollback()
        connection.close()


def _changed(before: dict, after: dict) -> list[str]:
    return [t for t in before if before[t] != after.get(t)]


def test_every_record_parameter_has_a_factory():
    missing, unknown = set(), set()
    for op in OPERATIONS:
        for p in op.params:
            if p in NOT_RECORDS:
                continue
            if not (p.endswith("_id") or p == "id"):
                unknown.add(f"{op}: {{{p}}}")
            elif op.key(p) not in FACTORIES:
                missing.add(op.key(p))
    assert not missing, f"add a factory for {sorted(missing)} in tests/walk_factories.py"
    assert not unknown, f"path parameters that are neither a record id nor listed in NOT_RECORDS: {unknown}"


def test_the_walk_reads_the_document_the_app_serves(world):
    served = TestClient(world.app).get(API + "openapi.json")
    assert served.status_code == 200
    walked = {str(op) for op in OPERATIONS}
    assert walked == {f"{m.upper()} {p}" for p, ops in served.json()["paths"].items() for m in ops}


def test_the_walk_covers_the_routes_everyone_forgets():
    walked = {str(op) for op in ID_OPERATIONS}
    assert {"GET /api/v1/women/{woman_id}/pii", "GET /api/v1/branches/{branch_id}/subtree"} <= walked
    assert any("/actions/" in w for w in walked) and any("/photos/" in w for w in walked)


def _refused_before_the_handler(r) -> bool:
    """A 422 from request validation (body, query or path), which FastAPI answers before any lookup."""
    if r.status_code != 422:
        return False
    errors = r.json().get("errors") or [{"loc": ["body"]}]
    return any((e.get("loc") or ["body"])[0] in ("body", "query", "path") for e in errors)


@pytest.mark.parametrize("op", ID_OPERATIONS, ids=str)
def test_the_county_reaches_every_walked_record(world, op):
    """A 404 in the walk proves nothing if the record is missing or the request never reaches its handler:
    the county administrator sends the same request (rolled back after) and is answered by the handler."""
    if world.permissions[(op.method, op.path)] - permissions_for("county_admin") - {"public"}:
        pytest.skip(f"{op} is not the county administrator's")  # none today
    records = world.records(SIBLING["town_a"])
    ids = {p: records.id_for(op.key(p)) for p in op.params}
    url = op.path.format(**ids)
    req = request_for(op, world.tree.county.id, ids)
    caller = _list_caller(world, records, op)
    before = world.snapshot()
    savepoint = world.connection.begin_nested()
    try:
        r = caller.request(
            op.method.upper(), url, json=req.json, files=req.files, data=req.data, params=req.params
        )
    finally:
        savepoint.rollback()
    assert world.snapshot() == before, f"{op}: the county's try was not rolled back"
    if op.method == "get":
        assert r.status_code == 200, f"{op} → {url}: {r.status_code} {r.text[:300]}"
    assert r.status_code != 404, f"{op} → {url}: the record is missing: {r.text[:300]}"
    assert not _refused_before_the_handler(r), f"{op}: the walk's request is refused unread: {r.text[:400]}"


@pytest.mark.parametrize("role,place", ROLES, ids=[f"{r}@{p}" for r, p in ROLES])
@pytest.mark.parametrize("op", ID_OPERATIONS, ids=str)
def test_a_sibling_branch_record_is_not_found(world, role, place, op, request):
    if (str(op), role) in KNOWN_FINDINGS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_FINDINGS[(str(op), role)]))
    api = world.client(role, place)
    records = world.records(SIBLING[place])
    ids = {p: records.id_for(op.key(p)) for p in op.params}
    url = op.path.format(**ids)
    req = request_for(op, world.branch(place).id, ids)
    lacking = world.permissions[(op.method, op.path)] - permissions_for(role) - {"public"}
    expected = 403 if lacking else 404
    if world.baseline is None:
        world.baseline = world.snapshot()
    before = world.fingerprint()
    r = api.request(op.method.upper(), url, json=req.json, files=req.files, data=req.data, params=req.params)
    after = world.fingerprint()
    why = f"missing {sorted(lacking)}" if lacking else "record of a sibling branch"
    assert r.status_code == expected, (
        f"{role}@{place} {op.method.upper()} {url} ({why}): expected {expected}, got {r.status_code} {r.text[:400]}"
    )
    assert not _changed(before, after), f"{role}@{place} {op}: changed {_changed(before, after)}"


# Lists whose rows are branches: a row's own id is its branch.
BRANCH_LISTS = {"/api/v1/branches", "/api/v1/branches/inactive"}


def _rows_belong_by(op: Operation) -> tuple[str, str] | None:
    """How to tell a row's branch: ("branch", field) by its branch, or ("id", factory key) by its id being one of
    the records made in a sibling branch (for rows that carry no branch_id); None when neither can tell."""
    if op.path in BRANCH_LISTS:
        return ("branch", "id")
    if "branch_id" in _response_items(op).get("properties", {}):
        return ("branch", "branch_id")
    kind = next((k for k in FACTORIES if k.rsplit("/", 1)[0] == op.path.removeprefix(API)), None)
    return ("id", kind) if kind else None


def _list_caller(world: World, records: SiblingRecords, op: Operation) -> Api:
    # A carer's own list shows only the children paired with her: the sibling child's carer reads it.
    return records.local("carer") if op.path.startswith(API + "children/mine") else world.admin


@pytest.mark.parametrize("role,place", ROLES, ids=[f"{r}@{p}" for r, p in ROLES])
@pytest.mark.parametrize("op", LIST_OPERATIONS, ids=str)
def test_lists_show_only_the_callers_subtree(world, role, place, op):
    how = _rows_belong_by(op)
    if how is None:
        pytest.skip(f"{op}: its rows carry no branch_id and no factory makes them")
    api = world.client(role, place)
    req = request_for(op, world.branch(place).id)
    lacking = world.permissions[(op.method, op.path)] - permissions_for(role) - {"public"}
    r = api.get(op.path, params={**(req.params or {}), "limit": 200})
    if lacking:
        assert r.status_code == 403, f"{role}@{place} {op} (missing {sorted(lacking)}): {r.status_code}"
        return
    assert r.status_code == 200, f"{role}@{place} {op}: {r.status_code} {r.text[:400]}"
    items = r.json()["items"]
    if how[0] == "branch":
        allowed = world.subtree_ids(place)
        outside = [row.get(how[1]) for row in items if row.get(how[1]) not in allowed]
        assert not outside, f"{role}@{place} {op}: rows of branches outside the subtree {outside}"
    else:
        theirs = {world.records(p).id_for(how[1]) for p in SIBLING.values() if p not in SUBTREE[place]}
        outside = [row["id"] for row in items if row["id"] in theirs]
        assert not outside, f"{role}@{place} {op}: rows of a sibling branch {outside}"


@pytest.mark.parametrize("op", LIST_OPERATIONS, ids=str)
def test_the_county_sees_the_sibling_rows_the_lists_hide(world, op):
    """The row-by-row check has teeth only if the sibling branch's records are in the list for someone."""
    how = _rows_belong_by(op)
    if how is None:
        pytest.skip(f"{op}: its rows carry no branch_id and no factory makes them")
    for place, sibling in SIBLING.items():
        records = world.records(sibling)
        req = request_for(op, world.tree.county.id)
        r = _list_caller(world, records, op).get(op.path, params={**(req.params or {}), "limit": 200})
        assert r.status_code == 200, f"{op}: {r.status_code} {r.text[:400]}"
        if how[0] == "branch":
            seen = {row.get(how[1]) for row in r.json()["items"]}
            assert seen - world.subtree_ids(place), f"{op}: no row outside {place}'s subtree to hide"
        else:
            seen = {row["id"] for row in r.json()["items"]}
            assert records.id_for(how[1]) in seen, f"{op}: {records.branch.name}'s record is not listed"


def test_the_walk_changed_nothing(world):
    """Row by row, after every call of the walk above (pytest runs this module's tests in order)."""
    if world.baseline is None:
        pytest.skip("the walk did not run")
    after = world.snapshot()
    changed = {t: (len(world.baseline[t]), len(after[t])) for t in _changed(world.baseline, after)}
    assert not changed, f"tables changed by calls that should all have been refused: {changed}"
