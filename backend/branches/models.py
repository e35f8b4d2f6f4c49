from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import JSON, Field

from backend.core.scope import Ancestors, SoftDelete, Timestamped, register_branch_model, scope_indexes


class BranchKind(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"
    street = "street"
    village = "village"
    community = "community"
    organ_committee = "organ_committee"
    enterprise_committee = "enterprise_committee"
    other = "other"


GRASSROOTS_KINDS = (BranchKind.village, BranchKind.community)


class Branch(Ancestors, SoftDelete, Timestamped, table=True):
    """One federation in the tree: a place (county, township, village…) or a committee in an organ or enterprise."""

    __label__ = "组织"
    __table_args__ = (*scope_indexes("branch", "code", soft_delete=True), sa.Index("ix_branch_path", "path"))

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=32, unique=True)
    name: str = Field(max_length=100)
    kind: BranchKind = Field(sa_type=sa.String(32), index=True)
    parent_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    path: str = Field(default="", max_length=200)
    depth: int = Field(default=1)
    chair_name: str | None = Field(default=None, max_length=50)
    chair_phone: str | None = Field(default=None, max_length=20)
    term_started_on: date | None = None
    term_due_on: date | None = Field(default=None, index=True)
    # none_as_null: "no 妇女之家" is SQL NULL, so `has_womens_home` filters work on both databases.
    womens_home: dict[str, Any] | None = Field(default=None, sa_type=JSON(none_as_null=True))

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]


@sa.event.listens_for(Branch, "after_insert")
def _fill_path(_mapper, connection, target: Branch) -> None:
    """The path and the node's own ancestor column need its id: set them in the same flush as the insert."""
    own = f"a{target.depth}"
    ancestors = [str(getattr(target, f"a{i}")) for i in range(1, target.depth)]
    path = "/" + "".join(f"{a}/" for a in [*ancestors, str(target.id)])
    connection.execute(
        sa.update(Branch.__table__)
        .where(Branch.__table__.c.id == target.id)
        .values(path=path, **{own: target.id})
    )
    set_committed_value(target, "path", path)
    set_committed_value(target, own, target.id)


# `within` (backend.core.scope) looks an `under=` branch up in this table.
register_branch_model(Branch)
