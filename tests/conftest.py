"""One database per test run, built by `alembic upgrade heads`; every test runs in a transaction rolled back after.

SQLite by default; `TEST_DB=postgres` runs the same suite on a fresh database created on the server named by
`TEST_DATABASE_URL` (and dropped afterwards), so parallel runs never share tables.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

os.environ.setdefault("HALFSKY_ENV", "test")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("PII_KEY", "test-pii-key-" + "y" * 40)
_MEDIA = tempfile.mkdtemp(prefix="halfsky-media-")
os.environ.setdefault("MEDIA_DIR", _MEDIA)

from backend.auth.models import ApiClient, User  # noqa: E402
from backend.branches.models import Branch, BranchKind  # noqa: E402
from backend.branches.service import place_under  # noqa: E402
from backend.core.db import Database, make_engine  # noqa: E402
from backend.core.migrate import upgrade  # noqa: E402
from backend.core.scope import Principal  # noqa: E402
from backend.core.security import create_access_token, hash_password  # noqa: E402
from backend.main import create_app  # noqa: E402

TEST_PASSWORD = "Test-password-2026"


def _postgres_url() -> str | None:
    if os.environ.get("TEST_DB") != "postgres":
        return None
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit("TEST_DB=postgres needs TEST_DATABASE_URL", returncode=2)
    return url


@pytest.fixture(scope="session")
def engine() -> Iterator[sa.Engine]:
    pg_url = _postgres_url()
    if pg_url:
        admin = make_engine(pg_url, isolation_level="AUTOCOMMIT", pool_size=1)
        name = f"halfsky_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.make_url(make_engine(pg_url).url).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        try:
            upgrade(url)
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
        return
    tmp = Path(tempfile.mkdtemp(prefix="halfsky-test-"))
    url = f"sqlite:///{tmp / 'test.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine) -> Iterator[Database]:
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield Database(connection, join_savepoints=True)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.factory() as s:
        yield s
        s.flush()


@pytest.fixture
def app(db):
    return create_app(db)


@pytest.fixture
def anon(app) -> TestClient:
    return TestClient(app)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(TEST_PASSWORD)


def make_branch(
    session: Session, parent: Branch | None, name: str, kind: BranchKind, code: str | None = None, **fields
) -> Branch:
    node = Branch(name=name, kind=kind, code=code, **fields)
    place_under(node, parent)
    session.add(node)
    session.flush()
    return node


@dataclass
class Tree:
    """county → township A (villages A1, A2), township B (villages B1, B2)."""

    county: Branch
    town_a: Branch
    town_b: Branch
    village_a1: Branch
    village_a2: Branch
    village_b1: Branch
    village_b2: Branch


@pytest.fixture
def tree(session: Session) -> Tree:
    return build_tree(session)


def build_tree(session: Session) -> Tree:
    county = make_branch(session, None, "测试县", BranchKind.county, "T430725")
    town_a = make_branch(session, county, "甲镇", BranchKind.township, "T430725101")
    town_b = make_branch(session, county, "乙镇", BranchKind.township, "T430725102")
    t = Tree(
        county=county,
        town_a=town_a,
        town_b=town_b,
        village_a1=make_branch(session, town_a, "甲一村", BranchKind.village, "T430725101001"),
        village_a2=make_branch(session, town_a, "甲二村", BranchKind.village, "T430725101002"),
        village_b1=make_branch(session, town_b, "乙一村", BranchKind.village, "T430725102001"),
        village_b2=make_branch(session, town_b, "乙二村", BranchKind.village, "T430725102002"),
    )
    session.commit()
    return t


def make_user(
    session: Session,
    branch: Branch,
    role: str,
    username: str | None = None,
    password_hash: str = "x",
    display_name: str | None = None,
) -> User:
    user = User(
        username=username or f"{role}-{uuid.uuid4().hex[:8]}",
        display_name=display_name or role,
        role=role,
        password_hash=password_hash,
    )
    user.place_in(branch)
    session.add(user)
    session.commit()
    return user


def make_client_account(
    session: Session, branch: Branch, role: str, client_id: str, secret_hash: str = "x"
) -> ApiClient:
    client = ApiClient(client_id=client_id, name=client_id, role=role, secret_hash=secret_hash)
    client.place_in(branch)
    session.add(client)
    session.commit()
    return client


def token_for(account: User | ApiClient) -> str:
    kind = "user" if isinstance(account, User) else "client"
    token, _jti, _ = create_access_token(
        subject=f"{kind}:{account.id}", role=account.role, branch_id=account.branch_id
    )
    return token


def principal_for(account: User | ApiClient, branch: Branch) -> Principal:
    from backend.auth.roles import permissions_for

    return Principal(
        kind="user" if isinstance(account, User) else "client",
        id=account.id,
        name=getattr(account, "display_name", account.client_id if hasattr(account, "client_id") else ""),
        role=account.role,
        branch_id=branch.id,
        branch_depth=branch.depth,
        branch_path=branch.path,
        permissions=permissions_for(account.role),
    )


class Api:
    """A test client signed in as one account."""

    def __init__(self, app, account, branch: Branch):
        self.account = account
        self.branch = branch
        self.client = TestClient(app, headers={"Authorization": f"Bearer {token_for(account)}"})

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def login(app, session):
    """`login(role, branch)` → a client signed in as a new user of that role in that branch."""

    def _login(role: str, branch: Branch, **kwargs) -> Api:
        return Api(app, make_user(session, branch, role, **kwargs), branch)

    return _login


@pytest.fixture
def admin(login, tree) -> Api:
    return login("county_admin", tree.county)
