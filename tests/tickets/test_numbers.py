"""Ticket numbers stay unique when many intakes run at once (separate connections, real commits)."""

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from backend.core.db import Database
from backend.tickets.models import TicketCounter
from backend.tickets.service import next_number

YEAR = 2099  # a year no other test uses; its counter row is removed afterwards


def test_concurrent_intakes_never_share_a_number(engine):
    db = Database(engine)

    def take(_):
        with db.session(write=True) as session:
            return next_number(session, YEAR)

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            numbers = list(pool.map(take, range(40)))
        assert len(set(numbers)) == 40
        assert sorted(numbers) == [f"12338-{YEAR}-{n:06d}" for n in range(1, 41)]
    finally:
        with db.session(write=True) as session:
            session.execute(sa.delete(TicketCounter).where(TicketCounter.year == YEAR))
