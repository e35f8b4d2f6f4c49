import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image


def image_bytes(fmt: str = "PNG", size=(64, 48), color=(200, 30, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def png() -> bytes:
    return image_bytes("PNG")


@pytest.fixture
def jpeg() -> bytes:
    return image_bytes("JPEG", color=(10, 120, 200))


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def ago(**kw) -> str:
    return iso(datetime.now(UTC) - timedelta(**kw))


def ahead(**kw) -> str:
    return iso(datetime.now(UTC) + timedelta(**kw))


@pytest.fixture
def report(login):
    """`report(api, **fields)` → a held activity created through the API."""

    def _report(api, **fields):
        body = {"type": "health_talk", "title": "两癌防治知识讲座", "starts_at": ago(hours=3)} | fields
        r = api.post("/api/v1/activities", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    return _report


def upload(api, activity_id: int, data: bytes, name: str = "photo.png", content_type: str = "image/png"):
    return api.post(f"/api/v1/activities/{activity_id}/photos", files={"file": (name, data, content_type)})
