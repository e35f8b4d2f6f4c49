"""Periodic upkeep (SLA sweep, expired keys and tokens). `halfsky sweep` runs it once; `serve` every few minutes."""

import asyncio
import logging
from collections.abc import Callable

from backend.core.db import Database

log = logging.getLogger("halfsky.tasks")

# Each task opens its own transaction and must be safe to run twice (a second run changes nothing).
PERIODIC_TASKS: list[tuple[str, Callable[[Database], object]]] = []


def periodic(name: str):
    def register(func: Callable[[Database], object]):
        PERIODIC_TASKS.append((name, func))
        return func

    return register


def run_periodic_once(db: Database) -> dict[str, object]:
    results: dict[str, object] = {}
    for name, func in PERIODIC_TASKS:
        try:
            results[name] = func(db)
        except Exception:
            log.exception("periodic task %s failed", name)
            results[name] = "failed"
    return results


async def periodic_loop(db: Database, interval: float) -> None:
    while True:
        await asyncio.to_thread(run_periodic_once, db)
        await asyncio.sleep(interval)


@periodic("idempotency_keys")
def _purge_keys(db: Database) -> int:
    from backend.core.idempotency import purge_expired

    return purge_expired(db)


@periodic("revoked_tokens")
def _purge_tokens(db: Database) -> int:
    from backend.auth.service import purge_expired

    with db.session(write=True) as session:
        purge_expired(session)
    return 0
