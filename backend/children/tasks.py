"""Periodic upkeep of the children's registry."""

from backend.children import service
from backend.core.db import Database
from backend.core.queue import task


@task("children.age_out", every_minutes=60)
def age_out_children(db: Database) -> int:
    """Hourly, so a child who turned 16 today leaves the list today whatever time the runner starts."""
    with db.session(write=True) as session:
        session.info["actor"], session.info["actor_name"] = "system:children", "满 16 周岁巡检"
        return service.age_out(session)
