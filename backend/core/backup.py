"""`halfsky backup FILE` and `halfsky restore FILE`: a consistent copy of a live database, and back.

- SQLite: the online backup API copies the whole file in one step under a read transaction, so it is one
  consistent moment while the app keeps writing (WAL: readers never block the writer).
- PostgreSQL: `pg_dump --format=custom` (one snapshot, writers carry on) and `pg_restore` into an empty
  database, in one transaction. The client tools must be at least the server's major version.

A restore goes into a fresh (empty) database unless `force` is given. Photos under MEDIA_DIR (or in object
storage) are files, not rows: copy them with the usual file tools.
"""

import os
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(Exception):
    pass


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (it goes in PGPASSWORD, not on a command line others can read)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} not found: install the PostgreSQL client tools") from exc
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def backup(database_url: str, target: Path) -> Path:
    url = sa.make_url(database_url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url), timeout=30)
        dest = sqlite3.connect(partial)
        try:
            with dest:
                source.backup(dest)  # pages=-1: one step, one consistent read snapshot
            dest.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            dest.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        libpq, env = _libpq(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", libpq], env)
    else:
        raise BackupError(f"cannot back up a {url.get_backend_name()} database")
    partial.replace(target)  # a file named FILE is always a whole backup
    return target


def _is_empty(database_url: str) -> bool:
    engine = sa.create_engine(
        sa.make_url(database_url).set(
            drivername="postgresql+psycopg" if database_url.startswith("postgres") else "sqlite"
        )
    )
    try:
        return not sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(database_url: str, source: Path, *, force: bool = False) -> None:
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    magic = source.open("rb").read(16)
    url = sa.make_url(database_url)
    kind = url.get_backend_name()
    if kind == "sqlite":
        if not magic.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup (a PostgreSQL dump restores into PostgreSQL)")
        path = _sqlite_path(url)
        if path.exists() and not force and not _is_empty(database_url):
            raise BackupError(
                f"{path} is not empty: restore into a fresh database, or pass --force to replace it"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dest = sqlite3.connect(path, timeout=30)
        try:
            with dest:
                src.backup(dest)
            dest.execute("PRAGMA journal_mode=WAL")
        finally:
            dest.close()
            src.close()
    elif kind == "postgresql":
        if not magic.startswith(PG_CUSTOM_MAGIC):
            raise BackupError(
                f"{source} is not a pg_dump custom-format file (a SQLite backup restores into SQLite)"
            )
        if not force and not _is_empty(database_url):
            raise BackupError(
                f"database {url.database} is not empty: restore into a fresh one, or pass --force"
            )
        libpq, env = _libpq(url)
        options = ["--clean", "--if-exists"] if force else []
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                *options,
                f"--dbname={libpq}",
                str(source),
            ],
            env,
        )
    else:
        raise BackupError(f"cannot restore into a {kind} database")
