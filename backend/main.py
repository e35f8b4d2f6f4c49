"""create_app(): routers, error handlers, middleware and the SPA."""

import contextlib
import os
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

import backend.core.tasks  # noqa: F401  (registers the core's periodic clean-up)
import backend.integrations.metrics  # noqa: F401  (registers the webhook delivery gauge)
import backend.models  # noqa: F401  (registers every table)
from backend.activities.routes import inactive_router as branches_inactive_router
from backend.activities.routes import router as activities_router
from backend.audit.routes import router as audit_router
from backend.auth.routes import router as auth_router
from backend.auth.routes import users_router
from backend.branches.routes import router as branches_router
from backend.children.pairing_routes import routers as pairing_routers
from backend.children.routes import routers as children_routers
from backend.core.compression import JSONCompressionMiddleware
from backend.core.config import get_settings
from backend.core.db import Database, default_database
from backend.core.errors import install_error_handlers
from backend.core.headers import SecurityHeadersMiddleware
from backend.core.idempotency import IdempotencyMiddleware
from backend.core.limits import BodyLimitMiddleware
from backend.core.observability import RequestContextMiddleware, install_metrics
from backend.core.queue import EmbeddedRunner, procrastinate_conninfo
from backend.core.static import mount_spa
from backend.integrations.routes import events_router
from backend.integrations.routes import router as webhooks_router
from backend.jobs.routes import router as jobs_router
from backend.members.routes import router as members_router
from backend.meta.routes import router as meta_router
from backend.openapi import install_contract
from backend.reports.routes import router as reports_router
from backend.screenings.routes import router as screenings_router
from backend.tickets.routes import router as tickets_router
from backend.volunteers.routes import routers as volunteers_routers

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 12 * 1024 * 1024
SPA_DIR = Path(
    os.environ.get("HALFSKY_SPA_DIR", Path(__file__).resolve().parent.parent / "frontend" / "dist")
)

ROUTERS: list[APIRouter] = [
    meta_router,
    auth_router,
    users_router,
    branches_inactive_router,
    branches_router,
    members_router,
    activities_router,
    *volunteers_routers,
    audit_router,
    reports_router,
    tickets_router,
    screenings_router,
    *pairing_routers,
    *children_routers,
    jobs_router,
    events_router,
    webhooks_router,
]


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(db: Database | None = None, *, run_periodic: bool = False) -> FastAPI:
    settings = get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # Few threads per process: handlers are CPU-bound Python, and many threads only fight over the GIL
        # (measured in bench/README.md); run more processes instead.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # Background tasks in this process: the SQLite runner, or an embedded procrastinate worker.
        runner = None
        if run_periodic:
            runner = EmbeddedRunner(app.state.db, procrastinate_conninfo(settings.database_url))
            await runner.start()
        yield
        if runner:
            await runner.stop()

    app = FastAPI(
        title="HalfSky",
        version="0.1.0",
        description="半边天 · 妇联工作系统 API:组织、会员、活动、12338 维权热线、两癌筛查、巾帼志愿服务。",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
    )
    app.state.db = db or default_database()
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(JSONCompressionMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Content-Disposition", "ETag", "Idempotent-Replayed"],
        )
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    install_contract(app)
    install_metrics(app)
    app.add_middleware(SecurityHeadersMiddleware, api_prefix=API_PREFIX + "/")
    # Outermost: the request id is set before anything else runs, and the timing covers the whole answer.
    app.add_middleware(RequestContextMiddleware, log_requests=settings.log_requests)
    mount_spa(app, SPA_DIR)
    return app
