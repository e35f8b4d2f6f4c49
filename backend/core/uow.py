"""One request, one unit of work, one thread hop.

A plain `def` route runs, with everything it does in the database, in a single trip to a worker thread:
the connection is taken there, the caller's account is checked there, the handler runs, the transaction
commits and the connection goes back to the pool before the thread is released. So no request ever holds
a connection, or SQLite's write lock, while it waits for a thread or for another request.

In front of that trip stands admission: at most `worker_threads` units run at once per process; the others
wait in a bounded queue on the event loop (holding nothing) and, past its length or its time limit, get
503 with `Retry-After` instead of piling onto the database.
"""

import asyncio
import functools
import inspect
import math
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from sqlmodel import Session

from backend.core.config import get_settings
from backend.core.db import Database
from backend.core.errors import Overloaded, is_busy_database
from backend.core.idempotency import SCOPE_KEY as IDEMPOTENCY_SCOPE_KEY
from backend.core.idempotency import mark_committed

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_PARAM = "_unit_of_work_request"


class PendingPrincipal:
    """What the principal dependency hands over before the account is checked, inside the unit of work.

    Its permissions are those of the token's role: the unit of work refuses the token (401) unless the account
    still has that role, so a permission checked on it (403) holds for the account as it is now.
    """

    __slots__ = ("permissions",)

    def __init__(self, permissions: frozenset[str]):
        self.permissions = permissions

    def can(self, permission: str) -> bool:
        return permission in self.permissions


class UnitOfWork:
    """The request's database work: its session, whether it writes, the token claims to check, and the
    Idempotency-Key (if any) to mark committed with it."""

    __slots__ = ("db", "write", "ip", "claims", "_session", "idempotency")

    def __init__(self, db: Database, write: bool, ip: str | None, idempotency: tuple[str, str] | None = None):
        self.db = db
        self.write = write
        self.ip = ip
        self.idempotency = idempotency
        self.claims: dict[str, Any] | None = None
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The request's session; it takes no connection until the handler's thread first uses it."""
        if self._session is None:
            self._session = self.db.factory()
            self._session.info["ip"] = self.ip
        return self._session

    def run(self, handler: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        """Runs in the worker thread: check the caller, call the handler, commit; all on one connection."""
        if self._session is None and self.claims is None:
            return handler(**kwargs)
        from backend.core.deps import principal_from_claims

        with self.db.unit(self.session, write=self.write, guard=True) as session:
            if self.claims is not None:
                principal = principal_from_claims(session, self.claims)
                session.info["principal"] = principal
                kwargs = {k: principal if isinstance(v, PendingPrincipal) else v for k, v in kwargs.items()}
            result = handler(**kwargs)
            if self.idempotency is not None:
                mark_committed(session, self.idempotency)
            return result


def writes(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a GET that writes (a reveal of personal data writes its audit row): its unit takes the write lock."""
    handler.__unit_write__ = True  # type: ignore[attr-defined]
    return handler


def reads_first(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a POST that reads, does slow work, then writes (a login checks a password hash for tens of
    milliseconds): its unit starts as a read and takes the write lock only at `begin_write`, so no writer waits
    on the hash."""
    handler.__unit_write__ = False  # type: ignore[attr-defined]
    return handler


def unit_of_work(request: Request) -> UnitOfWork:
    uow = request.scope.get("halfsky.uow")
    if uow is None:
        uow = UnitOfWork(
            request.app.state.db,
            request.method not in _SAFE_METHODS,
            request.client.host if request.client else None,
            request.scope.get(IDEMPOTENCY_SCOPE_KEY),
        )
        request.scope["halfsky.uow"] = uow
    return uow


class Admission:
    """At most `capacity` units at once; a bounded, time-limited queue in front; 503 beyond it."""

    def __init__(self, capacity: int, queue: int, timeout: float):
        self.capacity = capacity
        self.queue_limit = queue
        self.timeout = timeout
        self.running = 0
        self.waiting = 0
        self._slots = asyncio.Semaphore(capacity)
        self._service_seconds = 0.02

    def retry_after(self) -> int:
        """Seconds until the queue ahead would have drained, from the recent time per unit."""
        return max(1, math.ceil((self.waiting + 1) * self._service_seconds / self.capacity))

    @asynccontextmanager
    async def slot(self, gate: asyncio.Lock | None = None):
        if self._slots.locked() and self.waiting >= self.queue_limit:
            raise Overloaded(retry_after=self.retry_after())
        self.waiting += 1
        try:
            with anyio.fail_after(self.timeout):
                if gate is not None:
                    await gate.acquire()
                try:
                    await self._slots.acquire()
                except BaseException:
                    if gate is not None:
                        gate.release()
                    raise
        except TimeoutError:
            raise Overloaded(retry_after=self.retry_after()) from None
        finally:
            self.waiting -= 1
        self.running += 1
        started = time.perf_counter()
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()
            if gate is not None:
                gate.release()
            elapsed = time.perf_counter() - started
            self._service_seconds += (elapsed - self._service_seconds) * 0.05


def admission_for(request: Request) -> Admission:
    state = request.app.state
    admission = getattr(state, "admission", None)
    if admission is None:
        settings = get_settings()
        admission = Admission(
            settings.worker_threads, settings.admission_queue, settings.admission_timeout_seconds
        )
        state.admission = admission
    return admission


def in_one_hop(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a plain `def` handler so that its unit of work runs in one admitted thread hop."""
    signature = inspect.signature(handler)
    # FastAPI hands the request to one parameter only: reuse the handler's own if it has one.
    own = next((p.name for p in signature.parameters.values() if p.annotation is Request), None)
    name = own or _REQUEST_PARAM
    declared = getattr(handler, "__unit_write__", None)
    parameters = list(signature.parameters.values())
    if own is None:
        parameters.append(
            inspect.Parameter(_REQUEST_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        )

    @functools.wraps(handler)
    async def endpoint(**kwargs: Any) -> Any:
        request: Request = kwargs[name] if own else kwargs.pop(name)
        uow = unit_of_work(request)
        if declared is not None:
            uow.write = declared
        # On SQLite one writer at a time per process: a writer waits here, on the event loop, not in a thread.
        gate = uow.db.write_gate if uow.write else None
        async with admission_for(request).slot(gate):
            try:
                return await anyio.to_thread.run_sync(uow.run, handler, kwargs)
            except Exception as exc:
                if is_busy_database(exc):
                    raise Overloaded(retry_after=2) from exc
                raise

    endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    del endpoint.__wrapped__  # FastAPI must read the signature above, not the handler's
    return endpoint


class UnitOfWorkRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any):
        plain = not inspect.iscoroutinefunction(endpoint) and not inspect.isgeneratorfunction(endpoint)
        super().__init__(path, in_one_hop(endpoint) if plain else endpoint, **kwargs)
        if not plain and _uses_session(self.dependant):
            raise TypeError(
                f"{path}: a route with a session must be a plain def (it runs as one unit of work)"
            )


def _uses_session(dependant: Any) -> bool:
    from backend.core.deps import get_session

    return any(dep.call is get_session or _uses_session(dep) for dep in dependant.dependencies)


class Router(APIRouter):
    """Every domain's router: its plain `def` routes run as one unit of work each (see module doc)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("route_class", UnitOfWorkRoute)
        super().__init__(**kwargs)
