"""Engines, sessions and the few places where SQLite and PostgreSQL differ."""

import asyncio
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from backend.core.config import VAR_DIR, get_settings


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no offset, so we put it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        # A list page reads hundreds of these: one fused function per value instead of three layered ones.
        if dialect.name == "sqlite":
            parse = datetime.fromisoformat

            def from_sqlite(value):
                if value is None:
                    return None
                if isinstance(value, str):
                    return parse(value).replace(tzinfo=UTC)
                return self.process_result_value(value, dialect)

            return from_sqlite
        return super().result_processor(dialect, coltype)


def _sqlite_pragmas(dbapi_conn, _record):
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (savepoints need it).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Read through memory-mapped pages and keep a larger page cache: list pages touch the same index pages.
    cur.execute("PRAGMA mmap_size=1073741824")
    cur.execute("PRAGMA cache_size=-8000")
    cur.close()


def _sqlite_begin(conn):
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "BEGIN")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    settings = get_settings()
    url = url or settings.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            from pathlib import Path

            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        else:
            VAR_DIR.mkdir(exist_ok=True)
        if url.startswith("sqlite:///") and ":memory:" not in url:
            kwargs.setdefault("pool_size", settings.pool_size)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 10)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", settings.pool_size)
    kwargs.setdefault("max_overflow", 0)
    # Units of work never wait for one another while holding a connection, so a short wait means overload.
    kwargs.setdefault("pool_timeout", 10)
    # No ping before every checkout (a round trip per request): a connection found dead (a database restart)
    # invalidates the pool, and that one request answers 503 so the client sends it again.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 3600)
    return sa.create_engine(url, **kwargs)


class Database:
    """One engine and its session factory; the app keeps one on `app.state.db` (tests bind theirs)."""

    def __init__(self, engine: Engine | sa.Connection, *, join_savepoints: bool = False):
        self.engine = engine
        options: dict[str, Any] = {"class_": Session, "expire_on_commit": False}
        if join_savepoints:
            options["join_transaction_mode"] = "create_savepoint"
        self.factory = sessionmaker(bind=engine, **options)
        # SQLite has one writer at a time: writers of this process queue on a lock (woken at once, in order)
        # rather than in SQLite's busy handler (which sleeps and polls); other processes meet busy_timeout.
        self._serialise_writes = self.dialect == "sqlite" and isinstance(engine, Engine)
        self._writer = threading.Lock()
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def write_gate(self) -> asyncio.Lock | None:
        """For request units of work on SQLite: writers wait their turn on the event loop, holding no thread."""
        if not self._serialise_writes:
            return None
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Lock()
        return gate

    @contextmanager
    def unit(self, session: Session, *, write: bool = False, guard: bool = False) -> Iterator[Session]:
        """Run `session` as one unit of work: commit when the block ends, roll back if it raises, then close.

        `guard`: a read unit refuses to write (see `begin_write`), so a request that writes is always declared."""
        session.info["database"] = self
        session.info["read_only"] = guard and not write
        try:
            with session:
                if write:
                    self._take_write_lock(session)
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            release = session.info.pop("release_writer", None)
            if release is not None:
                release()

    def _take_write_lock(self, session: Session) -> None:
        if self._serialise_writes:
            self._writer.acquire()
            session.info["release_writer"] = self._writer.release
        if self.dialect == "sqlite":
            # The write lock is taken at BEGIN: a deferred transaction that read first could not upgrade
            # once another writer had committed. The unit is short and runs in one thread.
            session.connection(execution_options={"sqlite_write": True})

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A unit of work in a new session: commits when the block ends, rolls back if it raises."""
        with self.unit(self.factory(), write=write) as session:
            yield session


def begin_write(session: Session) -> None:
    """In a unit that started as a read (`uow.reads_first`): end the read and start writing.

    On SQLite the read transaction ends (nothing was written) and a new one takes the write lock; rows read
    before may have changed since, so re-read what is to be changed (`session.refresh(row, with_for_update=True)`,
    which on PostgreSQL also locks the row against a concurrent unit)."""
    if not session.info.get("read_only"):
        return
    session.info["read_only"] = False
    db: Database = session.info["database"]
    session.commit()
    db._take_write_lock(session)


@event.listens_for(Session, "before_flush")
def _refuse_writes_in_read_units(session: Session, _context, _instances) -> None:
    if session.info.get("read_only") and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read unit of work tried to write: mark its route with uow.writes")


_default_db: Database | None = None


def default_database() -> Database:
    global _default_db
    if _default_db is None:
        _default_db = Database(make_engine())
    return _default_db


def is_unique_violation(exc: sa.exc.IntegrityError) -> bool:
    text = str(exc.orig).lower()
    return "unique" in text or "duplicate key" in text


# Rows per INSERT ... RETURNING: SQLAlchemy splices the batches of one call together row by row, a cost that grows
# with the square of the rows when a table's types make it send them a few at a time (seen: 7,500 women, 6 s).
RETURNING_CHUNK = 200


def insert_returning(session: Session, table: Any, rows: list[dict], *columns: str) -> list[sa.Row]:
    """Bulk INSERT answering `columns` (default: id) of each row, in the order of `rows`, on either database."""
    table = getattr(table, "__table__", table)
    stmt = sa.insert(table).returning(*(table.c[c] for c in columns or ("id",)), sort_by_parameter_order=True)
    out: list[sa.Row] = []
    for start in range(0, len(rows), RETURNING_CHUNK):
        out += session.execute(stmt, rows[start : start + RETURNING_CHUNK]).all()
    return out


def insert_ids(session: Session, table: Any, rows: list[dict]) -> list[int]:
    """Bulk INSERT answering the new ids in the order of `rows`."""
    return [r[0] for r in insert_returning(session, table, rows)]


def insert_ignore_conflicts(
    session: Session, table: sa.Table, rows: list[dict], index_elements: list[str]
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on either database."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=index_elements)
    session.execute(stmt, rows)
