"""Alembic is the only way the schema changes; this runs it from code (CLI, tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None, connection=None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, connection=None) -> None:
    command.upgrade(alembic_config(url, connection), "heads")


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Autogenerate and the model check leave alone procrastinate's tables (its schema is applied as SQL)."""
    return not (
        type_ in ("table", "index") and (name or "").startswith(("procrastinate_", "idx_procrastinate_"))
    )
