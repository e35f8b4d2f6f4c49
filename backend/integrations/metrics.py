"""The webhook delivery gauge of `/metrics`: deliveries by outcome (pending, delivered, failed)."""

import sqlalchemy as sa

from backend.core.observability import register_database_gauge
from backend.integrations.models import WebhookDelivery


def _deliveries(session) -> list[tuple[tuple[str, ...], float]]:
    rows = session.execute(
        sa.select(WebhookDelivery.status, sa.func.count()).group_by(WebhookDelivery.status)
    )
    return [((str(status),), float(n)) for status, n in rows]


register_database_gauge(
    "halfsky_webhook_deliveries", "Webhook deliveries by outcome", ("status",), _deliveries
)
