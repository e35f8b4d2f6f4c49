"""`halfsky rotate-pii-key`: re-encrypt every stored value and re-key every blind index under the current PII_KEY.

How a rotation goes (README, "Rotating PII_KEY"): the new key becomes PII_KEY and the old one moves to
PII_OLD_KEYS, every process restarts (new values are written under the new key at once, old ones still read,
lookups try both hashes); then this job runs while the app keeps serving; when it reports nothing left under an
old key, PII_OLD_KEYS is emptied and the processes restart again: the old key is retired.

Domains declare their encrypted columns on the model: `__encrypted_fields__ = {column: (index column, purpose)
or None}`. The job walks each table by primary key in short batches, one transaction each (its updates sent
as one executemany); a row is done once
its values carry the current key id, so a killed run simply runs again and skips what is done. Each row is
written only if its values are still the ones read (compare-and-set): a value the app changed meanwhile was
written under the current key already and is left alone.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from backend.core.db import Database
from backend.core.security import blind_index, current_key_id, decrypt_field, encrypt_field, stored_key_id


@dataclass
class RotationReport:
    key_id: str
    scanned: int = 0
    rewritten: int = 0
    changed_meanwhile: int = 0
    left: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def encrypted_tables() -> Iterator[tuple[sa.Table, dict[str, tuple[str, str] | None]]]:
    for mapper in sorted(SQLModel._sa_registry.mappers, key=lambda m: m.class_.__name__):
        spec = getattr(mapper.class_, "__encrypted_fields__", None)
        if spec:
            yield mapper.class_.__table__, spec


def _as_text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _rekeyed(spec: dict[str, tuple[str, str] | None], row: sa.Row, current: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for column, index in spec.items():
        stored = row._mapping[column]
        if stored is None or stored_key_id(_as_text(stored)) == current:
            continue
        plain = decrypt_field(_as_text(stored))
        sealed = encrypt_field(plain)
        changes[column] = sealed.encode() if isinstance(stored, bytes) else sealed
        if index is not None:
            index_column, purpose = index
            changes[index_column] = blind_index(plain, purpose)
    return changes


def rotate(
    db: Database, *, batch_size: int = 500, progress: Callable[[str, int, int], None] | None = None
) -> RotationReport:
    """Re-key every row not yet under the current key; returns what it did and what is left (should be nothing)."""
    current = current_key_id()
    report = RotationReport(key_id=current)
    started = time.perf_counter()
    for table, spec in encrypted_tables():
        pk = table.c.id
        columns = [pk, *(table.c[name] for name in spec)]
        last = 0
        while True:
            with db.session(write=True) as session:
                rows = session.execute(
                    sa.select(*columns).where(pk > last).order_by(pk).limit(batch_size)
                ).all()
                # Rows needing the same columns rewritten go in one executemany (one round trip, not one per row).
                groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
                for row in rows:
                    changes = _rekeyed(spec, row, current)
                    if changes:
                        params = {
                            "_pk": row.id,
                            **{f"_new_{c}": v for c, v in changes.items()},
                            **{f"_old_{c}": row._mapping[c] for c in spec if c in changes},
                        }
                        groups.setdefault(tuple(sorted(changes)), []).append(params)
                for changed, params in groups.items():
                    unchanged = [table.c[c] == sa.bindparam(f"_old_{c}") for c in spec if c in changed]
                    stmt = (
                        sa.update(table)
                        .where(pk == sa.bindparam("_pk"), *unchanged)
                        .values({c: sa.bindparam(f"_new_{c}") for c in changed})
                    )
                    done = session.connection().execute(stmt, params).rowcount
                    report.rewritten += done
                    report.changed_meanwhile += len(params) - done
            if not rows:
                break
            report.scanned += len(rows)
            last = rows[-1].id
            if progress:
                progress(table.name, last, report.rewritten)
    report.left = not_under_current_key(db)
    report.seconds = time.perf_counter() - started
    return report


def not_under_current_key(db: Database, batch_size: int = 2000) -> dict[str, int]:
    """Rows per table still holding a value under another key (or none): what keeps an old key from retiring."""
    current = current_key_id()
    left: dict[str, int] = {}
    for table, spec in encrypted_tables():
        pk = table.c.id
        last, count = 0, 0
        with db.session() as session:
            while True:
                rows = session.execute(
                    sa.select(pk, *(table.c[c] for c in spec)).where(pk > last).order_by(pk).limit(batch_size)
                ).all()
                if not rows:
                    break
                count += sum(
                    1
                    for row in rows
                    if any(v is not None and stored_key_id(_as_text(v)) != current for v in row[1:])
                )
                last = rows[-1].id
        if count:
            left[table.name] = count
    return left
