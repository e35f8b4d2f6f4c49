from typing import Annotated

from fastapi import Query, Response

from backend.core.deps import SessionDep, perm
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.scope import get_scoped
from backend.core.uow import Router
from backend.integrations import service
from backend.integrations import tasks as _tasks  # noqa: F401  (registers the delivery tasks)
from backend.integrations.models import WebhookSubscription
from backend.integrations.schemas import (
    EventList,
    ReplayRequest,
    ReplayResult,
    WebhookDeliveryList,
    WebhookDeliveryPublic,
    WebhookSubscriptionCreate,
    WebhookSubscriptionList,
    WebhookSubscriptionPublic,
    WebhookSubscriptionUpdate,
)

EventsRead = perm("events:read")
WebhooksAdmin = perm("webhooks:admin")

events_router = Router(prefix="/events", tags=["events"])
router = Router(prefix="/webhooks", tags=["webhooks"])


@events_router.get("", response_model=EventList)
def list_events(
    session: SessionDep,
    principal: EventsRead,
    after: Annotated[int, Query(ge=0, description="上次拿到的最后一个事件 id;从头开始填 0")] = 0,
    types: Annotated[str | None, Query(description="逗号分隔的事件类型", max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    """Events of the caller's subtree after a cursor, oldest first, for partners who poll instead of webhooks."""
    wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
    items = service.list_events(session, principal, after=after, types=wanted, limit=limit)
    return EventList(
        items=[service.event_to_public(e) for e in items], next_after=items[-1].id if items else after
    )


@router.post("/subscriptions", response_model=WebhookSubscriptionPublic, status_code=201)
def create_subscription(session: SessionDep, principal: WebhooksAdmin, body: WebhookSubscriptionCreate):
    """Subscribe a URL to events of a subtree; the signing secret is in this answer only."""
    return service.create_subscription(session, principal, body)


@router.get("/subscriptions", response_model=WebhookSubscriptionList, responses=LIST_RESPONSES)
def list_subscriptions(session: SessionDep, principal: WebhooksAdmin, page: PageDep):
    return service.list_subscriptions(session, principal, page)


@router.get("/subscriptions/{subscription_id}", response_model=WebhookSubscriptionPublic)
def get_subscription(session: SessionDep, principal: WebhooksAdmin, subscription_id: int):
    return service.to_public(session, get_scoped(session, WebhookSubscription, subscription_id, principal))


@router.patch("/subscriptions/{subscription_id}", response_model=WebhookSubscriptionPublic)
def update_subscription(
    session: SessionDep, principal: WebhooksAdmin, subscription_id: int, body: WebhookSubscriptionUpdate
):
    """Change URL, events or state; `rotate_secret` answers the new secret once and keeps the old one 24 h."""
    return service.update_subscription(session, principal, subscription_id, body)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(session: SessionDep, principal: WebhooksAdmin, subscription_id: int):
    service.delete_subscription(session, principal, subscription_id)
    return Response(status_code=204)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    response_model=WebhookDeliveryList,
    responses=LIST_RESPONSES,
)
def list_deliveries(
    session: SessionDep,
    principal: WebhooksAdmin,
    page: PageDep,
    subscription_id: int,
    status: str | None = None,
):
    """The delivery log: event, attempts, last status code and duration, next try."""
    return service.list_deliveries(session, principal, page, subscription_id=subscription_id, status=status)


@router.post("/subscriptions/{subscription_id}/actions/replay", response_model=ReplayResult)
def replay_subscription(
    session: SessionDep, principal: WebhooksAdmin, subscription_id: int, body: ReplayRequest
):
    """Send again every event of the subscription since a time."""
    return ReplayResult(queued=service.replay_since(session, principal, subscription_id, body.since))


@router.post(
    "/deliveries/{delivery_id}/actions/replay", response_model=WebhookDeliveryPublic, status_code=202
)
def replay_delivery(session: SessionDep, principal: WebhooksAdmin, delivery_id: int):
    """Send one delivery's event again (same webhook-id)."""
    again = service.replay_delivery(session, principal, delivery_id)
    return service.delivery_to_public(session, principal, again)
