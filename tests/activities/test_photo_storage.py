"""Photos in the media store: the local folder (the default) and an S3-compatible bucket (moto's server on a local
port, spoken to over HTTP exactly as MinIO or a cloud would be), through the API."""

import hashlib
import io
import socket
import uuid
from pathlib import Path

import pytest
from PIL import Image

from backend.core import storage
from backend.core.config import get_settings
from tests.activities.conftest import image_bytes, upload

BASE = "/api/v1/activities"
BUCKET = "halfsky-test-media"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    moto_server = pytest.importorskip("moto.server")
    import boto3

    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def _objects(endpoint: str, prefix: str) -> list[str]:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


@pytest.fixture(params=["folder", "s3"])
def media(request, monkeypatch, tmp_path):
    """`media()` → the keys stored so far, whichever store this run uses (each test starts empty)."""
    settings = get_settings()
    storage._store.cache_clear()
    if request.param == "folder":
        monkeypatch.setattr(settings, "media_dir", tmp_path / "media")
        monkeypatch.setattr(settings, "media_url", "")

        def keys():
            root = tmp_path / "media"
            return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        prefix = f"run-{uuid.uuid4().hex[:8]}"
        for name, value in (
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(settings, "media_url", f"s3://{BUCKET}/{prefix}")
        # The folder must not be used: point it somewhere that stays empty.
        monkeypatch.setattr(settings, "media_dir", tmp_path / "unused")

        def keys():
            return [k.removeprefix(prefix + "/") for k in _objects(endpoint, prefix + "/")]

    yield keys
    storage._store.cache_clear()


def test_upload_read_back_thumbnail_and_dedup(media, login, tree, report, png, jpeg):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    photo = upload(rep, activity["id"], png).json()
    sha = hashlib.sha256(png).hexdigest()
    assert photo["sha256"] == sha
    served = rep.get(photo["url"])
    assert served.status_code == 200 and served.content == png
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "private, max-age=86400"
    thumb = rep.get(photo["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (64, 48)
    thumb_sha = hashlib.sha256(thumb.content).hexdigest()
    assert media() == sorted([f"photos/{sha[:2]}/{sha}.png", f"photos/{thumb_sha[:2]}/{thumb_sha}.jpg"])

    # The same picture in another activity is another photo record over the same two stored objects.
    other = report(rep, title="三八维权周宣传")
    again = upload(rep, other["id"], png).json()
    assert again["id"] != photo["id"] and again["sha256"] == sha
    assert rep.get(again["url"]).content == png
    assert len(media()) == 2
    assert upload(rep, other["id"], jpeg).status_code == 201
    assert len(media()) == 4


def test_a_sibling_branch_cannot_read_a_stored_photo(media, login, tree, report):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    photo = upload(rep, activity["id"], image_bytes(color=(9, 9, 9))).json()
    for api in (login("village_rep", tree.village_a2), login("cadre", tree.town_b)):
        assert api.get(photo["url"]).status_code == 404
        assert api.get(photo["thumbnail_url"]).status_code == 404
    assert login("cadre", tree.town_a).get(photo["url"]).status_code == 200


def test_a_missing_object_answers_404(media, login, tree, report):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    photo = upload(rep, activity["id"], image_bytes(color=(7, 7, 7))).json()
    # A store emptied behind our back (a fresh bucket prefix): the record stays, the file is reported missing.
    settings = get_settings()
    storage._store.cache_clear()
    if settings.media_url:
        settings.media_url += "-elsewhere"
    else:
        settings.media_dir = Path(settings.media_dir).with_name("elsewhere")
    r = rep.get(photo["url"])
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_an_unreachable_bucket_answers_503_not_500(monkeypatch, login, tree, report, png):
    settings = get_settings()
    storage._store.cache_clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(settings, "media_url", f"s3://{BUCKET}")
    try:
        rep = login("village_rep", tree.village_a1)
        activity = report(rep)
        r = upload(rep, activity["id"], png)
        assert r.status_code == 503 and "Retry-After" in r.headers
        assert rep.get(f"{BASE}/{activity['id']}").json()["photo_count"] == 0
    finally:
        storage._store.cache_clear()


def test_media_url_must_name_a_bucket():
    with pytest.raises(ValueError, match="s3://BUCKET"):
        storage._store("ftp://example/x", "var/media")
