"""Periodic upkeep of the screening programme."""

from backend.core.db import Database
from backend.core.queue import task
from backend.screenings import service


@task("screenings.follow_up_overdue", every_minutes=15)
def flag_overdue_follow_ups(db: Database) -> int:
    with db.session(write=True) as session:
        return service.flag_overdue(session)
