from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.core.clock import PeriodOut
from backend.core.paging import Page
from backend.core.schemas import RequestModel
from backend.tickets.models import (
    Category,
    Channel,
    DayKind,
    EventKind,
    ReferralTarget,
    ReplyMethod,
    Satisfaction,
    SlaUnit,
    Status,
    Urgency,
)

PHONE_PATTERN = r"^[0-9+\- ]{3,20}$"


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    caller_name: str | None = Field(default=None, max_length=50)
    caller_phone: str | None = Field(default=None, max_length=20, pattern=PHONE_PATTERN)
    branch_id: int = Field(description="事发地所在组织")
    category: Category
    urgency: Urgency = Urgency.normal
    summary: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    sealed: bool = Field(default=False, description="保密件:仅承办人和县级管理员可见")


class TicketEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: EventKind
    author_id: int | None
    author_name: str
    text: str
    from_status: str | None
    to_status: str | None
    referral_to: ReferralTarget | None
    data: dict[str, Any] | None


class DuplicatePublic(BaseModel):
    id: int
    number: str
    status: Status
    category: Category
    created_at: datetime
    summary: str


class TicketPublic(BaseModel):
    """A ticket as lists show it: the caller is masked; `seconds_left` counts to the next pending deadline."""

    id: int
    number: str
    channel: Channel
    caller_name: str | None = Field(description="已脱敏")
    caller_phone: str | None = Field(description="已脱敏")
    branch_id: int = Field(description="事发地所在组织")
    owner_branch_id: int = Field(description="当前承办组织")
    category: Category
    urgency: Urgency
    summary: str
    description: str
    sealed: bool
    status: Status
    version: int
    first_responder_id: int
    assignee_id: int | None
    linked_to_id: int | None
    child_id: int | None = Field(default=None, description="关联的儿童(走访发现的儿童权益问题)")
    escalation_level: int
    first_response_due_at: datetime
    resolution_due_at: datetime
    first_responded_at: datetime | None
    replied_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    callback_at: datetime | None
    callback_reached: bool | None
    satisfaction: Satisfaction | None
    due_at: datetime | None = Field(description="下一个未完成的时限(首次响应或办结)")
    seconds_left: int | None = Field(description="距下一个时限的秒数,负数为已超时")
    overdue: bool
    created_at: datetime
    updated_at: datetime


class TicketDetail(TicketPublic):
    events: list[TicketEventPublic]
    possible_duplicates: list[DuplicatePublic] = Field(
        description="30 天内同一来电号码的其他工单,可用 link 关联"
    )
    allowed_actions: list[str]


class TicketList(Page[TicketPublic]):
    pass


class CallerPublic(BaseModel):
    caller_name: str | None
    caller_phone: str | None


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch_id: int
    assignee_id: int | None = None
    note: str = Field(default="", max_length=2000)


class ReferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: ReferralTarget
    note: str = Field(default="", max_length=2000)


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=5000)


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: ReplyMethod
    content: str = Field(min_length=1, max_length=5000)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: str = Field(min_length=1, max_length=5000)


class CallbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reached: bool
    satisfaction: Satisfaction | None = None
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _satisfaction_when_reached(self):
        if self.reached and self.satisfaction is None:
            raise ValueError("联系上来电人时须填写满意度")
        if not self.reached and self.satisfaction is not None:
            raise ValueError("未联系上来电人时不能填写满意度")
        return self


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: int
    note: str = Field(default="", max_length=2000)


class DeadlineIn(RequestModel):
    amount: int = Field(ge=1, le=1000)
    unit: SlaUnit


class SlaRulePublic(RequestModel):
    urgency: Urgency
    first_response: DeadlineIn
    resolution: DeadlineIn


class SlaSettings(BaseModel):
    items: list[SlaRulePublic]


class SlaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[SlaRulePublic] = Field(min_length=1, max_length=3)


class CalendarDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: DayKind
    note: str = Field(default="", max_length=200)


class CalendarDayPublic(BaseModel):
    day: date
    kind: DayKind
    source: str = Field(description="state 国务院安排(holidays 包)/ local 本县调整")
    note: str


class CalendarOverridePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    day: date
    kind: DayKind
    note: str
    updated_at: datetime
    updated_by: str | None


class CalendarYear(BaseModel):
    year: int
    days: list[CalendarDayPublic] = Field(description="当年所有非工作日和调休上班日")
    overrides: list[CalendarOverridePublic]


class RateFigure(BaseModel):
    numerator: int
    denominator: int
    rate: float | None


class TicketStats(BaseModel):
    period: PeriodOut
    total: int
    by_category: dict[str, int]
    by_channel: dict[str, int]
    by_urgency: dict[str, int]
    by_status: dict[str, int]
    first_response_on_time: RateFigure
    resolution_on_time: RateFigure
    reply_rate: RateFigure
    callback: dict[str, int]
    satisfaction_rate: RateFigure
    referrals_by_department: dict[str, int]
    average_hours_to_resolve: float | None
    overdue_open: int
    sealed: int
