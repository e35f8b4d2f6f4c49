"""Media storage: a local folder by default, an S3-compatible bucket when `MEDIA_URL=s3://BUCKET[/PREFIX]`.

Objects are written once under content-addressed keys (`photos/ab/ab….png`), so writing the same key twice is
harmless and nothing is ever overwritten. The bucket is configured the way S3 tools are: `AWS_ENDPOINT_URL`
(MinIO, a Chinese cloud), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`.

Objects are served through the API (streamed), never by presigned URLs: the permission check stays on every
read of the same URL, the bucket can live on a private network that phones never reach, and no signed link
can be forwarded and reused.
"""

import os
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from starlette.responses import FileResponse, Response, StreamingResponse

from backend.core.config import get_settings
from backend.core.errors import NotFound, Overloaded

CHUNK = 256 * 1024


class MediaStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` unless it is already there."""

    def exists(self, key: str) -> bool: ...

    def read(self, key: str) -> bytes:
        """The whole object; NotFound when it is missing."""

    def response(self, key: str, content_type: str, headers: dict[str, str]) -> Response:
        """An HTTP answer streaming the object; NotFound when it is missing."""


class FolderStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read(self, key: str) -> bytes:
        if not self.exists(key):
            raise NotFound("文件不存在")
        return self.path(key).read_bytes()

    def response(self, key: str, content_type: str, headers: dict[str, str]) -> Response:
        if not self.exists(key):
            raise NotFound("照片文件不存在,请重新上传")
        return FileResponse(self.path(key), media_type=content_type, headers=headers)


class BucketUnavailable(Overloaded):
    def __init__(self):
        super().__init__("照片存储暂时无法访问,请稍后再试", retry_after=5)


class S3Store:
    def __init__(self, bucket: str, prefix: str = ""):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # boto3 reads AWS_ENDPOINT_URL, the keys and the region from the environment; a client is thread-safe.
        self.client = boto3.client(
            "s3",
            config=Config(
                connect_timeout=3,
                read_timeout=10,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=32,
                s3={"addressing_style": "path"},
            ),
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _call(self, method: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise NotFound("照片文件不存在,请重新上传") from None
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
                raise BucketUnavailable() from exc
            raise
        except BotoCoreError as exc:  # endpoint unreachable, timeouts
            raise BucketUnavailable() from exc

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", Key=self._key(key))
        except NotFound:
            return False
        return True

    def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.exists(key):
            return
        # Same key, same bytes: two machines racing to write it store the same object.
        self._call("put_object", Key=self._key(key), Body=data, ContentType=content_type)

    def read(self, key: str) -> bytes:
        return self._call("get_object", Key=self._key(key))["Body"].read()

    def response(self, key: str, content_type: str, headers: dict[str, str]) -> Response:
        obj = self._call("get_object", Key=self._key(key))
        body = obj["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        headers = headers | {"Content-Length": str(obj["ContentLength"])}
        if obj.get("ETag"):
            headers["ETag"] = obj["ETag"]
        return StreamingResponse(chunks(), media_type=content_type, headers=headers)


@lru_cache(maxsize=4)
def _store(media_url: str, media_dir: str) -> MediaStore:
    if not media_url:
        return FolderStore(Path(media_dir))
    parts = urlsplit(media_url)
    if parts.scheme == "s3" and parts.netloc:
        return S3Store(parts.netloc, parts.path)
    if parts.scheme == "file":
        return FolderStore(Path(parts.path))
    raise ValueError(f"MEDIA_URL must be s3://BUCKET[/PREFIX] or file:///DIR, not {media_url!r}")


def media_store() -> MediaStore:
    settings = get_settings()
    return _store(settings.media_url, str(settings.media_dir))
