from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from backend.core.paging import Page
from backend.jobs.models import JobStatus


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: JobStatus
    filename: str | None
    created_by_name: str | None
    total_rows: int | None
    rows_done: int
    rows_failed: int
    result: dict[str, Any] | None
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime
    has_failed_rows: bool = False

    @computed_field
    @property
    def failed_rows_url(self) -> str | None:
        return f"/api/v1/jobs/{self.id}/failed-rows" if self.has_failed_rows else None


class JobList(Page[JobPublic]):
    pass
