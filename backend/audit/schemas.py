from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from backend.core.paging import Page


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str | None
    actor_name: str | None
    action: str
    entity: str | None
    entity_id: str | None
    field: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    branch_id: int | None


class AuditList(Page[AuditPublic]):
    pass
