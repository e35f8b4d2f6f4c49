from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from backend.core.paging import Page
from backend.core.schemas import RequestModel
from backend.integrations.models import DeliveryStatus


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="事件编号,也是轮询游标:下次用 after=<最后一个 id>")
    type: str
    occurred_at: datetime
    branch_id: int
    data: dict[str, Any] = Field(description="只含编号和脱敏值;详情请用自己的权限调接口读取")


class EventList(BaseModel):
    items: list[EventPublic]
    next_after: int = Field(description="下次轮询的 after 游标")


class WebhookSubscriptionCreate(RequestModel):
    url: HttpUrl
    events: list[str] = Field(min_length=1, description="订阅的事件类型,见 /meta/dictionaries 的 event_type")
    branch_id: int | None = Field(default=None, description="只接收这个组织及其下级的事件;不填为本人所在组织")
    description: str | None = Field(default=None, max_length=200)


class WebhookSubscriptionUpdate(RequestModel):
    url: HttpUrl | None = None
    events: list[str] | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=200)
    is_active: bool | None = None
    rotate_secret: bool = Field(default=False, description="换新密钥;旧密钥继续签名 24 小时")


class WebhookSubscriptionPublic(BaseModel):
    id: int
    url: str
    events: list[str]
    branch_id: int
    description: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None
    pending: int = Field(0, description="待投递")
    failed: int = Field(0, description="已放弃的投递")
    secret: str | None = Field(default=None, description="签名密钥,只在创建和换密钥时返回一次")


class WebhookSubscriptionList(Page[WebhookSubscriptionPublic]):
    pass


class WebhookDeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    event_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_duration_ms: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookDeliveryList(Page[WebhookDeliveryPublic]):
    pass


class ReplayRequest(RequestModel):
    since: datetime = Field(description="重发这个时间以后的全部事件")


class ReplayResult(BaseModel):
    queued: int
