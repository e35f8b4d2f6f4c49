"""Browser security headers on every answer: the SPA, the API and the interactive docs.

The SPA's policy allows only its own origin (no inline script; inline style attributes are set by the UI
libraries), so injected markup cannot run code or send data elsewhere (the build drops the CDN fallback of Vant's
icon font, whose embedded copy is used); answers can never be framed; HSTS is sent only over TLS (uvicorn takes
the scheme from X-Forwarded-Proto behind a trusted proxy).
"""

from starlette.types import ASGIApp, Receive, Scope, Send

SPA_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# JSON and files: nothing in an API answer is ever rendered as a page.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
# FastAPI's Swagger UI page loads its script and style from jsDelivr and starts with an inline script.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _headers(policy: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]


class SecurityHeadersMiddleware:
    """Pure ASGI: appends a fixed list of headers, chosen by path prefix, to each response start."""

    def __init__(self, app: ASGIApp, api_prefix: str = "/api/", docs_prefix: str = "/docs"):
        self.app = app
        self.api_prefix = api_prefix
        self.docs_prefix = docs_prefix
        self.spa = _headers(SPA_POLICY)
        self.api = _headers(API_POLICY)
        self.docs = _headers(DOCS_POLICY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = (
            self.api
            if path.startswith(self.api_prefix) or path == "/metrics"
            else self.docs
            if path.startswith(self.docs_prefix)
            else self.spa
        )
        if scope.get("scheme") == "https":
            extra = [*extra, HSTS]

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
