"""Looking inside a running HalfSky: a request id on every log line, JSON logs, and Prometheus metrics.

- Every request carries an id: the caller's `X-Request-ID` when it sends a sane one, else a new one. It is echoed
  in the answer and sits in a context variable, so every log line written while the request runs (in the
  event loop or in its unit of work's thread: anyio copies the context) carries it.
- `/metrics` (Prometheus text format) answers only callers from `METRICS_NETWORKS` or with
  `Authorization: Bearer <METRICS_TOKEN>`. Request counts and latency are recorded by route template and
  status in the middleware; the database pool, admission, task queue and whatever the domains register
  (webhook deliveries) are read when scraped, not on every request.
"""

import contextvars
import hmac
import ipaddress
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.core.errors import PROBLEM_BASE, PROBLEM_JSON

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("halfsky_request_id", default=None)
access_log = logging.getLogger("halfsky.access")

MAX_REQUEST_ID = 128
_ID_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/+=")

REQUEST_SECONDS = Histogram(
    "halfsky_http_request_duration_seconds",
    "Requests answered, by method, route template and status, and how long they took",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# ---------------------------------------------------------------- logs


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id, and an access line's fields."""

    FIELDS = ("method", "path", "route", "status", "duration_ms", "client")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        for field in self.FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(level: str = "INFO") -> dict[str, Any]:
    """logging.dictConfig for `halfsky serve` and `halfsky worker`: every logger, uvicorn's included, as JSON lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # The middleware writes the access line (with route, status, duration and the request id).
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


# ---------------------------------------------------------------- the middleware


def _request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            if 0 < len(value) <= MAX_REQUEST_ID and _ID_CHARS.issuperset(value):
                return value.decode("ascii")
            break
    return secrets.token_hex(8)


class RequestContextMiddleware:
    """Pure ASGI: the request id, its echo, the access line and the request histogram; nothing else per request."""

    def __init__(self, app: ASGIApp, *, log_requests: bool = True):
        self.app = app
        self.log_requests = log_requests
        self._templates: dict[int, str] | None = None

    def _template(self, scope: Scope) -> str:
        """The matched route's path template (API routes by their route, plain ones such as /metrics by endpoint)."""
        if self._templates is None:
            from backend.core.routes import api_routes

            app = scope["app"]
            self._templates = {id(r.endpoint): r.path for r in app.routes if hasattr(r, "endpoint")}
            self._templates.update({id(info.route): info.path for info in api_routes(app)})
        route = scope.get("route")
        key = id(route) if route is not None else id(scope.get("endpoint"))
        return self._templates.get(key) or "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope["headers"])
        # Not reset afterwards: each request runs in its own task, and a 500 is logged after this returns.
        request_id.set(rid)
        echo = (b"x-request-id", rid.encode("ascii"))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echo]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = self._template(scope)
            REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(elapsed)
            if self.log_requests:
                client = scope.get("client")
                access_log.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                        "client": client[0] if client else None,
                    },
                )


# ---------------------------------------------------------------- /metrics

Samples = list[tuple[tuple[str, ...], float]]
# name -> (help, label names, function of a session giving samples); domains add theirs (webhook deliveries).
_database_gauges: dict[str, tuple[str, tuple[str, ...], Callable[[Any], Samples]]] = {}


def register_database_gauge(
    name: str, help_text: str, labels: tuple[str, ...], read: Callable[[Any], Samples]
) -> None:
    """A gauge read from the database when `/metrics` is scraped (never on a request)."""
    _database_gauges[name] = (help_text, labels, read)


def _queue_depth(session) -> Samples:
    import sqlalchemy as sa

    if session.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs "
            "WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
        )
    else:
        sql = "SELECT 'default', status, count(*) FROM task_run WHERE status IN ('todo', 'doing') GROUP BY status"
    return [((queue, status), float(n)) for queue, status, n in session.execute(sa.text(sql))]


register_database_gauge(
    "halfsky_task_queue_jobs",
    "Background jobs waiting (todo) or running (doing)",
    ("queue", "status"),
    _queue_depth,
)


class _StateCollector:
    """Gauges read at scrape time: pool, admission, and the registered database gauges."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        state = self.app.state
        pool = getattr(state.db.engine, "pool", None)
        if pool is not None and hasattr(pool, "checkedout"):
            in_use = GaugeMetricFamily(
                "halfsky_db_pool_connections", "Database connections of this process", labels=["state"]
            )
            in_use.add_metric(["in_use"], pool.checkedout())
            in_use.add_metric(["idle"], pool.checkedin())
            yield in_use
            waiters = getattr(getattr(getattr(pool, "_pool", None), "not_empty", None), "_waiters", ())
            yield GaugeMetricFamily(
                "halfsky_db_pool_waiting", "Threads waiting for a database connection", value=len(waiters)
            )
            yield GaugeMetricFamily(
                "halfsky_db_pool_size", "Connections the pool may hold", value=pool.size()
            )
        admission = getattr(state, "admission", None)
        units = GaugeMetricFamily(
            "halfsky_admission_units", "Request units of work of this process", labels=["state"]
        )
        units.add_metric(["running"], admission.running if admission else 0)
        units.add_metric(["waiting"], admission.waiting if admission else 0)
        yield units
        if admission is not None:
            yield GaugeMetricFamily(
                "halfsky_admission_capacity", "Units that may run at once", value=admission.capacity
            )
        with state.db.session() as session:
            for name, (help_text, labels, read) in _database_gauges.items():
                family = GaugeMetricFamily(name, help_text, labels=list(labels))
                for values, value in read(session):
                    family.add_metric(list(values), value)
                yield family


def _process_registry() -> CollectorRegistry:
    """Request metrics of every `serve --workers N` process when PROMETHEUS_MULTIPROC_DIR is set, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_text(app) -> bytes:
    state = CollectorRegistry(auto_describe=False)
    state.register(_StateCollector(app))
    return generate_latest(_process_registry()) + generate_latest(state)


def metrics_allowed(request: Request, token: str, networks: list[str]) -> bool:
    if token:
        given = request.headers.get("authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
            return True
    host = request.client.host if request.client else None
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def install_metrics(app, path: str = "/metrics") -> None:
    import anyio.to_thread

    from backend.core.config import get_settings

    settings = get_settings()

    async def metrics(request: Request) -> Response:
        if not metrics_allowed(request, settings.metrics_token, settings.metrics_networks):
            body = {
                "type": PROBLEM_BASE + "forbidden",
                "title": "没有权限执行此操作",
                "status": 403,
                "detail": "指标只对允许的网络或持有 METRICS_TOKEN 的采集端开放",
            }
            return Response(json.dumps(body, ensure_ascii=False), 403, media_type=PROBLEM_JSON)
        text = await anyio.to_thread.run_sync(metrics_text, request.app)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    app.add_route(path, metrics, methods=["GET"], include_in_schema=False)
