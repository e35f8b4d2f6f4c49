"""Periodic upkeep of the screening programme."""

from backend.core.db import Database
from backend.core.tasks import periodic
from backend.screenings import service


@periodic("screening_follow_up_overdue")
def flag_overdue_follow_ups(db: Database) -> int:
    with db.session(write=True) as session:
        return service.flag_overdue(session)
