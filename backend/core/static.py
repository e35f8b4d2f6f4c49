"""The built SPA at `/`: precompressed files chosen by Accept-Encoding, cache headers, deep links to index.html.

The build (`vite build`) writes `name.br` and `name.gz` next to every compressible file; a request is answered with
the smallest variant the client accepts (brotli, then gzip, then the plain file), always with the plain file's
Content-Type and `Vary: Accept-Encoding`. Hashed files under `/assets/` never change, so browsers keep them for a
year (`immutable`); everything else (index.html, the service worker, the web manifest) is revalidated on every load
(`no-cache`), so a new build reaches the phones at their next visit. A path that is not a file falls back to
index.html (the router's deep links), except API paths, the docs and missing files with an extension, which answer
404 rather than a page of HTML in place of a script.
"""

import hashlib
import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response

from backend.core.deps import Public
from backend.core.errors import NotFound

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Preference order when the client accepts several; the file suffix the build writes for each.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
NOT_SPA = ("api/", "docs", "redoc", "openapi.json")
# A missing file with one of these endings is a 404, not the SPA's page (a script must never receive HTML).
STATIC_SUFFIXES = (
    ".js",
    ".mjs",
    ".css",
    ".map",
    ".json",
    ".webmanifest",
    ".png",
    ".jpg",
    ".svg",
    ".ico",
    ".woff2",
    ".txt",
)

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".mjs")


def accepted_encodings(header: str) -> set[str]:
    """The content codings a client accepts (q > 0), lower-cased; `*` stands for any not named."""
    accepted: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        accepted[name] = q
    wanted = {name for name, q in accepted.items() if q > 0}
    if "*" in wanted:
        wanted |= {name for name, _ in ENCODINGS if name not in accepted}
    return wanted


def resolve_file(root: Path, path: str) -> Path | None:
    """The file `path` names inside `root`, or None: no traversal out of it, no hidden files, no directories."""
    if "\x00" in path or any(seg.startswith(".") for seg in path.split("/") if seg):
        return None
    try:
        candidate = (root / path).resolve()
    except (OSError, ValueError):
        return None
    if root not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def etag_of(file: Path) -> str:
    """The same validator Starlette's FileResponse sends: modification time and size of the bytes sent."""
    stat = file.stat()
    return f'"{hashlib.md5(f"{stat.st_mtime}-{stat.st_size}".encode(), usedforsecurity=False).hexdigest()}"'


def file_response(file: Path, accept_encoding: str, cache_control: str, if_none_match: str = "") -> Response:
    """The file, or its precompressed variant the client accepts, with type, length and cache headers; 304 when
    the client's copy is current (index.html and the service worker are revalidated on every visit)."""
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type in ("application/javascript", "application/json"):
        media_type += "; charset=utf-8"
    headers = {"Cache-Control": cache_control}
    variants = [(name, file.with_name(file.name + suffix)) for name, suffix in ENCODINGS]
    variants = [(name, v) for name, v in variants if v.is_file()]
    sent = file
    if variants:
        headers["Vary"] = "Accept-Encoding"
        wanted = accepted_encodings(accept_encoding)
        for name, variant in variants:
            if name in wanted:
                headers["Content-Encoding"] = name
                sent = variant
                break
    headers["ETag"] = etag_of(sent)
    if headers["ETag"] in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]:
        headers.pop("Content-Encoding", None)
        return Response(status_code=304, headers=headers)
    return FileResponse(sent, media_type=media_type, headers=headers)


def mount_spa(app: FastAPI, directory: Path) -> None:
    """Serve the built SPA in `directory` at `/` (see the module's docstring); API paths are left to the API."""
    root = Path(directory).resolve()

    @app.get("/{full_path:path}", include_in_schema=False, dependencies=[Public])
    def spa(full_path: str, request: Request):
        index = root / "index.html"
        if full_path.startswith(NOT_SPA) or not index.is_file():
            raise NotFound("页面不存在")
        accept = request.headers.get("accept-encoding", "")
        cached = request.headers.get("if-none-match", "")
        if full_path:
            found = resolve_file(root, full_path)
            if found is not None and found != index:
                immutable = full_path.startswith("assets/")
                return file_response(found, accept, IMMUTABLE if immutable else REVALIDATE, cached)
            if full_path.startswith("assets/") or full_path.lower().endswith(STATIC_SUFFIXES):
                raise NotFound("文件不存在")
        return file_response(index, accept, REVALIDATE, cached)
