"""Idempotency-Key for every POST: a retried submission from a phone replays the first answer, never a second record."""

import asyncio
import hashlib
import json
import re
import weakref
from datetime import timedelta

import anyio
import anyio.to_thread
import sqlalchemy as sa
from sqlmodel import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.config import get_settings
from backend.core.db import Database, is_unique_violation, utcnow
from backend.core.errors import PROBLEM_BASE, PROBLEM_JSON, Unauthorized
from backend.core.idempotency_models import IdempotencyKey
from backend.core.security import decode_access_token

MAX_KEY_LENGTH = 200
# How long a retry waits for the first request with the same key to finish before answering 409.
WAIT_SECONDS = 10.0
SCOPE_KEY = "halfsky.idempotency"
POLL_SECONDS = 0.1
_BOUNDARY = re.compile(rb"boundary=([^;\s]+)")
_NOT_KEPT = {401, 403, 413, 429}


def _problem(status: int, kind: str, title: str, detail: str) -> tuple[int, bytes]:
    body = {"type": PROBLEM_BASE + kind, "title": title, "status": status, "detail": detail}
    return status, json.dumps(body, ensure_ascii=False).encode()


def _request_hash(scope: Scope, body: bytes, content_type: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(
        scope["method"].encode() + b" " + scope["path"].encode() + b"?" + scope.get("query_string", b"")
    )
    match = _BOUNDARY.search(content_type)
    if match:
        # Browsers pick a new multipart boundary on every send; the same form must hash the same.
        body = body.replace(match.group(1).strip(b'"'), b"")
    digest.update(body)
    return digest.hexdigest()


def _subject(headers: dict[bytes, bytes]) -> str | None:
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if not auth.lower().startswith("bearer "):
        return None
    try:
        # Expiry is ignored on purpose: a retry after a token refresh is the same person's same submission.
        return str(decode_access_token(auth[7:].strip(), verify_exp=False)["sub"])
    except Unauthorized:
        return None


# Key bookkeeping runs in a few threads of its own (each a short transaction), so it never takes a request
# thread and the connections it can hold at once stay counted (core.config.SIDE_CONNECTIONS).
KEY_THREADS = 2
_limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _in_thread(func, *args):
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(KEY_THREADS)
    return await anyio.to_thread.run_sync(func, *args, limiter=limiter)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key", b"").decode("latin-1").strip()
        subject = _subject(headers) if key else None
        if not key or subject is None:
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            await _send_plain(
                send,
                *_problem(
                    400,
                    "idempotency-key-invalid",
                    "Idempotency-Key 无效",
                    f"Idempotency-Key 不能超过 {MAX_KEY_LENGTH} 个字符",
                ),
            )
            return

        body = await _read_body(receive)
        db: Database = scope["app"].state.db
        request_hash = _request_hash(scope, body, headers.get(b"content-type", b""))
        claimed = await _in_thread(_claim, db, subject, key, scope, request_hash)
        if claimed is not True and not await self._answer_existing(send, db, subject, key, request_hash):
            return
        # The unit of work marks the key `committed` in the same transaction as the request's own writes.
        scope[SCOPE_KEY] = (subject, key)

        captured: dict = {"status": 500, "headers": [], "body": b""}

        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if delivered:
                # After the body, only the client's disconnect is left to hear about.
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        except BaseException:
            await _in_thread(_release, db, subject, key)
            raise
        if captured["status"] >= 500 or captured["status"] in _NOT_KEPT:
            # Nothing was done (a server failure, or the caller was not let in): the retry must run again,
            # e.g. after the phone has refreshed its expired token.
            await _in_thread(_release, db, subject, key)
        else:
            await _in_thread(_store, db, subject, key, captured)

    async def _answer_existing(
        self, send: Send, db: Database, subject: str, key: str, request_hash: str
    ) -> bool:
        """Answer a resend from what the first submission left; True: the caller takes the claim over and runs it."""
        waited = 0.0
        while True:
            row = await _in_thread(_load, db, subject, key)
            if row is None:
                await _send_plain(
                    send,
                    *_problem(
                        409,
                        "idempotency-in-progress",
                        "请求正在处理",
                        "相同 Idempotency-Key 的请求刚刚失败,请重试",
                    ),
                )
                return False
            if row.request_hash != request_hash:
                await _send_plain(
                    send,
                    *_problem(
                        422,
                        "idempotency-key-reused",
                        "Idempotency-Key 已用于其他内容",
                        "同一个 Idempotency-Key 不能用于不同的提交内容",
                    ),
                )
                return False
            if row.status == "done":
                extra = [(b"idempotent-replayed", b"true")]
                if row.response_location:
                    extra.append((b"location", row.response_location.encode()))
                await _send_plain(
                    send,
                    row.response_status,
                    row.response_body or b"",
                    (row.response_type or "application/json").encode(),
                    extra,
                )
                return False
            lease = timedelta(seconds=get_settings().idempotency_lease_seconds)
            # Committed, answer not kept yet: its process keeps it a moment after the caller got it (a resend
            # through another process can come first), so wait; if it never comes, the process stopped.
            if row.status == "committed" and (waited >= WAIT_SECONDS or row.created_at < utcnow() - lease):
                # Its writes committed but the process stopped before the answer was kept: never run it again.
                await _send_plain(
                    send,
                    *_problem(
                        409,
                        "idempotency-completed",
                        "已经提交成功",
                        "这次提交已经保存(服务器当时中断,没能留下回执),请刷新查看,不要重复提交",
                    ),
                )
                return False
            if row.created_at < utcnow() - lease and await _in_thread(_take_over, db, row.id, row.created_at):
                # Claimed long ago and never committed: the process that claimed it is gone, nothing was written.
                return True
            if waited >= WAIT_SECONDS:
                await _send_plain(
                    send,
                    *_problem(
                        409, "idempotency-in-progress", "请求正在处理", "相同的提交正在处理中,请稍后再试"
                    ),
                )
                return False
            await asyncio.sleep(POLL_SECONDS)
            waited += POLL_SECONDS


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_plain(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = PROBLEM_JSON.encode(),
    extra: list | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _claim(db: Database, subject: str, key: str, scope: Scope, request_hash: str) -> bool:
    expiry = utcnow() - timedelta(hours=get_settings().idempotency_hours)
    try:
        with db.session(write=True) as session:
            session.execute(
                sa.delete(IdempotencyKey).where(
                    IdempotencyKey.subject == subject,
                    IdempotencyKey.key == key,
                    IdempotencyKey.created_at < expiry,
                )
            )
            session.add(
                IdempotencyKey(
                    subject=subject,
                    key=key,
                    method=scope["method"],
                    path=scope["path"][:500],
                    request_hash=request_hash,
                )
            )
        return True
    except sa.exc.IntegrityError as exc:
        if is_unique_violation(exc):
            return False
        raise


def _load(db: Database, subject: str, key: str) -> IdempotencyKey | None:
    with db.session() as session:
        return session.exec(
            select(IdempotencyKey).where(IdempotencyKey.subject == subject, IdempotencyKey.key == key)
        ).first()


def _take_over(db: Database, key_id: int, claimed_at) -> bool:
    with db.session(write=True) as session:
        return (
            session.execute(
                sa.update(IdempotencyKey)
                .where(
                    IdempotencyKey.id == key_id,
                    IdempotencyKey.status == "in_progress",
                    IdempotencyKey.created_at == claimed_at,
                )
                .values(created_at=utcnow())
            ).rowcount
            == 1
        )


def _release(db: Database, subject: str, key: str) -> None:
    # Only a claim whose request wrote nothing: a committed one stays, so its resend is never run twice.
    with db.session(write=True) as session:
        session.execute(
            sa.delete(IdempotencyKey).where(
                IdempotencyKey.subject == subject,
                IdempotencyKey.key == key,
                IdempotencyKey.status == "in_progress",
            )
        )


def mark_committed(session, claim: tuple[str, str]) -> None:
    """Called by the unit of work inside the request's transaction: these writes and this mark commit together."""
    subject, key = claim
    session.execute(
        sa.update(IdempotencyKey)
        .where(
            IdempotencyKey.subject == subject,
            IdempotencyKey.key == key,
            IdempotencyKey.status == "in_progress",
        )
        .values(status="committed")
    )


def _store(db: Database, subject: str, key: str, captured: dict) -> None:
    headers = {k.lower(): v for k, v in captured["headers"]}
    with db.session(write=True) as session:
        session.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.subject == subject, IdempotencyKey.key == key)
            .values(
                status="done",
                response_status=captured["status"],
                response_body=captured["body"],
                response_type=headers.get(b"content-type", b"application/json").decode("latin-1")[:200],
                response_location=(
                    headers[b"location"].decode("latin-1")[:500] if b"location" in headers else None
                ),
            )
        )


def purge_expired(db: Database) -> int:
    expiry = utcnow() - timedelta(hours=get_settings().idempotency_hours)
    with db.session(write=True) as session:
        return session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < expiry)).rowcount
