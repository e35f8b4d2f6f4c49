"""The `halfsky` command."""

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from sqlmodel import select


def _db():
    from backend.core.db import default_database

    return default_database()


def cmd_migrate(_args) -> None:
    from backend.core.migrate import upgrade

    upgrade()
    print("database is at the latest schema")


def cmd_serve(args) -> None:
    import uvicorn

    from backend.core.config import get_settings
    from backend.core.observability import log_config
    from backend.main import create_app

    settings = get_settings()
    # Idle keep-alive connections are kept longer than a client (or nginx, 60 s) keeps them, so a request sent on
    # a connection never meets the server closing it at that moment (a dropped request for the caller).
    options = {
        "log_config": log_config(settings.log_level.upper()),
        "access_log": False,
        "timeout_keep_alive": 75,
    }
    if args.workers is None:
        args.workers = default_workers(settings.database_url)
    if args.workers > 1:
        # Several processes, each with its task runner: claims are atomic and periodic runs one per period.
        os.environ["HALFSKY_SERVE_TASKS"] = "0" if args.no_worker else "1"
        # /metrics adds up the request counts of every process (prometheus_client's multiprocess mode).
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            import tempfile

            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="halfsky-metrics-")
        uvicorn.run(
            "backend.cli:served_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            **options,
        )
        return
    uvicorn.run(
        create_app(run_periodic=not args.no_worker),
        host=args.host,
        port=args.port,
        proxy_headers=True,
        **options,
    )


def default_workers(database_url: str) -> int:
    """SQLite has one writer: one process queues its writers in order, several would poll for the lock.
    PostgreSQL takes one process per core (each with a few request threads), up to four."""
    if database_url.startswith("sqlite"):
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def served_app():
    """The app of one `serve --workers N` process, with its task runner unless --no-worker."""
    from backend.main import create_app

    return create_app(run_periodic=os.environ.get("HALFSKY_SERVE_TASKS", "1") != "0")


def cmd_worker(args) -> None:
    import logging.config

    import backend.main  # noqa: F401  (imports every domain, so each one's tasks are registered)
    from backend.core.config import get_settings
    from backend.core.observability import log_config
    from backend.core.queue import run_worker

    logging.config.dictConfig(log_config(get_settings().log_level.upper()))
    run_worker(_db(), get_settings().database_url, concurrency=args.concurrency)


def cmd_demo(_args) -> None:
    from backend.demo import load_demo

    if load_demo(_db()):
        print("demo county 桃源县 loaded; logins use the password HalfSky-demo-2026")
    else:
        print("database is not empty: demo not loaded")


def cmd_import_divisions(args) -> None:
    from backend.branches.divisions import import_divisions
    from backend.branches.models import Branch

    with _db().session(write=True) as session:
        session.info["actor"], session.info["actor_name"] = "system:import", "区划导入"
        attach_to = None
        if args.parent_code:
            attach_to = session.exec(select(Branch).where(Branch.code == args.parent_code)).first()
            if attach_to is None:
                sys.exit(f"no branch with code {args.parent_code}")
        added = import_divisions(
            session,
            Path(args.directory),
            under=args.under,
            attach_to=attach_to,
            progress=lambda f, n: print(f"{f}: {n} added", flush=True),
        )
    print(json.dumps(added, ensure_ascii=False))


def cmd_create_admin(args) -> None:
    from backend.auth.models import User
    from backend.auth.roles import Role
    from backend.branches.models import Branch, BranchKind
    from backend.branches.service import place_under
    from backend.core.security import hash_password

    password = args.password or os.environ.get("HALFSKY_ADMIN_PASSWORD")
    if not password:
        password = getpass.getpass("password for the new county admin: ")
    if len(password) < 10:
        sys.exit("password must be at least 10 characters")
    with _db().session(write=True) as session:
        session.info["actor"], session.info["actor_name"] = "system:cli", "命令行"
        if session.exec(select(User.id).where(User.username == args.username)).first() is not None:
            sys.exit(f"user {args.username} already exists")
        if args.branch_code:
            branch = session.exec(select(Branch).where(Branch.code == args.branch_code)).first()
            if branch is None:
                sys.exit(f"no branch with code {args.branch_code}: run `halfsky import-divisions` first")
        elif args.branch_name:
            branch = Branch(name=args.branch_name, kind=BranchKind(args.branch_kind))
            place_under(branch, None)
            session.add(branch)
            session.flush()
        else:
            sys.exit("give --branch-code (an imported branch) or --branch-name (a new root branch)")
        user = User(
            username=args.username,
            display_name=args.display_name or args.username,
            role=Role.county_admin.value,
            password_hash=hash_password(password),
        )
        user.place_in(branch)
        session.add(user)
    print(f"county admin {args.username} created for {branch.name}")


def cmd_sweep(_args) -> None:
    import backend.main  # noqa: F401  (imports every domain, so each one's periodic tasks are registered)
    from backend.core.queue import run_periodic_once

    print(json.dumps(run_periodic_once(_db()), ensure_ascii=False, default=str))


def cmd_backup(args) -> None:
    import time

    from backend.core.backup import BackupError, backup
    from backend.core.config import get_settings

    started = time.perf_counter()
    try:
        path = backup(get_settings().database_url, Path(args.file))
    except BackupError as exc:
        sys.exit(str(exc))
    print(
        f"backup written to {path} ({path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s)"
    )


def cmd_restore(args) -> None:
    import time

    from backend.core.backup import BackupError, restore
    from backend.core.config import get_settings

    started = time.perf_counter()
    try:
        restore(get_settings().database_url, Path(args.file), force=args.force)
    except BackupError as exc:
        sys.exit(str(exc))
    print(
        f"restored {args.file} in {time.perf_counter() - started:.1f} s; run `halfsky migrate` if this release is newer"
    )


def cmd_rotate_pii_key(args) -> None:
    import backend.models  # noqa: F401  (every table, so every encrypted column is known)
    from backend.core.config import get_settings
    from backend.core.keys import not_under_current_key, rotate
    from backend.core.security import current_key_id

    db = _db()
    if args.check:
        left = not_under_current_key(db)
        print(json.dumps({"key_id": current_key_id(), "left": left}, ensure_ascii=False))
        sys.exit(1 if left else 0)
    if not get_settings().pii_old_keys:
        print(
            "note: PII_OLD_KEYS is empty; values under a key not configured cannot be read", file=sys.stderr
        )

    def progress(table: str, last_id: int, rewritten: int) -> None:
        print(f"{table}: up to id {last_id}, {rewritten} rows re-keyed so far", flush=True)

    report = rotate(db, batch_size=args.batch_size, progress=progress)
    print(json.dumps(report.__dict__, ensure_ascii=False, default=str))
    if report.left:
        sys.exit(
            "rows remain under another key (a process still running with the old PII_KEY?): run it again"
        )
    print(f"every value is under key {report.key_id}: remove the old key from PII_OLD_KEYS and restart")


def cmd_openapi(args) -> None:
    from backend.openapi import write_openapi

    path = write_openapi(Path(args.output))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="halfsky", description="HalfSky 半边天 — 妇联工作系统")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the API and the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--no-worker",
        "--no-sweep",
        dest="no_worker",
        action="store_true",
        help="run no background tasks in this process (separate `halfsky worker` processes run them)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="API processes (default: 1 on SQLite, one per core up to 4 on PostgreSQL)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background tasks: imports, webhook deliveries, periodic upkeep")
    p.add_argument("--concurrency", type=int, default=4, help="tasks run at once by this process")
    p.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="upgrade the database to the latest schema").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo county into an empty database").set_defaults(func=cmd_demo)
    sub.add_parser("sweep", help="run the periodic tasks once (SLA escalation, clean-up)").set_defaults(
        func=cmd_sweep
    )

    p = sub.add_parser("import-divisions", help="build branches from official division-code CSVs")
    p.add_argument("directory")
    p.add_argument("--under", help="import only this code's subtree, e.g. 430725")
    p.add_argument("--parent-code", help="hang the imported top level under this existing branch")
    p.set_defaults(func=cmd_import_divisions)

    p = sub.add_parser("create-admin", help="create a county admin for a real installation")
    p.add_argument("--username", required=True)
    p.add_argument("--display-name")
    p.add_argument("--password", help="or set HALFSKY_ADMIN_PASSWORD, or be asked")
    p.add_argument("--branch-code", help="an imported branch's code, e.g. 430725")
    p.add_argument("--branch-name", help="create a new root branch with this name")
    p.add_argument("--branch-kind", default="county")
    p.set_defaults(func=cmd_create_admin)

    p = sub.add_parser("backup", help="write a consistent copy of the live database to FILE")
    p.add_argument("file")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="load a backup FILE into the (empty) database of DATABASE_URL")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="replace a database that is not empty")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "rotate-pii-key", help="re-encrypt personal data and re-key its lookup hashes under PII_KEY"
    )
    p.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    p.add_argument(
        "--check", action="store_true", help="only count the rows not yet under PII_KEY (exit 1 if any)"
    )
    p.set_defaults(func=cmd_rotate_pii_key)

    p = sub.add_parser("openapi", help="write the OpenAPI document")
    p.add_argument("--output", default="openapi/openapi.json")
    p.set_defaults(func=cmd_openapi)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
