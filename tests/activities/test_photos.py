import hashlib
import io
from pathlib import Path

from PIL import Image

from backend.core.config import get_settings
from tests.activities.conftest import image_bytes, upload

BASE = "/api/v1/activities"


def test_png_and_jpeg_are_stored_by_content_hash_with_thumbnails(login, tree, report, png, jpeg):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    first = upload(rep, activity["id"], png)
    assert first.status_code == 201, first.text
    photo = first.json()
    assert photo["content_type"] == "image/png" and (photo["width"], photo["height"]) == (64, 48)
    assert photo["sha256"] == hashlib.sha256(png).hexdigest()
    stored = Path(get_settings().media_dir) / "photos" / photo["sha256"][:2] / f"{photo['sha256']}.png"
    assert stored.read_bytes() == png

    # The content decides, not the name: a JPEG called .png is a JPEG.
    second = upload(rep, activity["id"], jpeg, name="IMG_0001.png", content_type="application/octet-stream")
    assert second.status_code == 201 and second.json()["content_type"] == "image/jpeg"

    served = rep.get(photo["url"])
    assert served.status_code == 200 and served.content == png
    assert served.headers["content-type"] == "image/png"
    thumb = rep.get(photo["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320

    listed = rep.get(f"{BASE}/{activity['id']}/photos").json()
    assert [p["id"] for p in listed] == [photo["id"], second.json()["id"]]
    detail = rep.get(f"{BASE}/{activity['id']}").json()
    assert detail["photo_count"] == 2 and detail["thumbnail_url"] == photo["thumbnail_url"]


def test_same_photo_twice_is_one_photo(login, tree, report, png):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    a = upload(rep, activity["id"], png).json()
    b = upload(rep, activity["id"], png).json()
    assert a["id"] == b["id"]
    assert rep.get(f"{BASE}/{activity['id']}").json()["photo_count"] == 1


def test_a_renamed_text_file_is_refused(login, tree, report):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    r = upload(
        rep,
        activity["id"],
        "这不是照片,是通知文本".encode() * 20,
        name="photo.jpg",
        content_type="image/jpeg",
    )
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "JPEG" in r.json()["detail"]
    assert rep.get(f"{BASE}/{activity['id']}").json()["photo_count"] == 0


def test_a_broken_image_with_the_right_magic_bytes_is_refused(login, tree, report, png):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    assert upload(rep, activity["id"], png[:40]).status_code == 415
    assert upload(rep, activity["id"], b"\xff\xd8\xff\xe0" + b"\x00" * 200, name="a.jpg").status_code == 415
    assert upload(rep, activity["id"], b"", name="empty.png").status_code == 415
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    assert upload(rep, activity["id"], gif.getvalue(), name="a.png").status_code == 415


def test_a_photo_over_10_mb_is_refused(login, tree, report, png):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    big = png + b"\x00" * (10 * 1024 * 1024 + 1 - len(png))
    r = upload(rep, activity["id"], big)
    assert r.status_code == 413 and "10 MB" in r.json()["detail"]
    assert rep.get(f"{BASE}/{activity['id']}").json()["photo_count"] == 0


def test_photos_are_scoped_like_their_activity(login, tree, report, png):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    photo = upload(rep, activity["id"], png).json()
    sibling = login("village_rep", tree.village_a2)
    other_town = login("cadre", tree.town_b)
    for api in (sibling, other_town):
        assert api.get(photo["url"]).status_code == 404
        assert api.get(photo["thumbnail_url"]).status_code == 404
        assert api.get(f"{BASE}/{activity['id']}/photos").status_code == 404
        assert upload(api, activity["id"], png).status_code == 404
    assert login("cadre", tree.town_a).get(photo["url"]).status_code == 200
    # A photo id under another activity is not found either.
    other = report(sibling)
    assert sibling.get(f"{BASE}/{other['id']}/photos/{photo['id']}").status_code == 404
    assert rep.get(BASE + "/999999/photos").status_code == 404
    assert (
        login("leader", tree.county)
        .post(f"{BASE}/{activity['id']}/photos", files={"file": ("a.png", png, "image/png")})
        .status_code
        == 403
    )


def test_deleting_a_photo_moves_the_cover(login, tree, report):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    a = upload(rep, activity["id"], image_bytes(color=(1, 2, 3))).json()
    b = upload(rep, activity["id"], image_bytes(color=(4, 5, 6))).json()
    assert rep.delete(f"{BASE}/{activity['id']}/photos/{a['id']}").status_code == 204
    detail = rep.get(f"{BASE}/{activity['id']}").json()
    assert detail["photo_count"] == 1 and detail["thumbnail_url"] == b["thumbnail_url"]


def test_idempotent_photo_upload(login, tree, report, png):
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    headers = {"Idempotency-Key": "upload-1"}
    url = f"{BASE}/{activity['id']}/photos"
    r1 = rep.post(url, files={"file": ("a.png", png, "image/png")}, headers=headers)
    r2 = rep.post(url, files={"file": ("a.png", png, "image/png")}, headers=headers)
    assert r1.status_code == r2.status_code == 201 and r1.json()["id"] == r2.json()["id"]
    assert r2.headers.get("Idempotent-Replayed") == "true"


def test_a_decompression_bomb_is_refused_before_decoding(login, tree, report, png):
    import struct
    import zlib

    # Same tiny file, but the header claims 20000 × 20000 pixels.
    ihdr = b"IHDR" + struct.pack(">II", 20000, 20000) + png[24:29]
    bomb = png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]
    rep = login("village_rep", tree.village_a1)
    activity = report(rep)
    r = upload(rep, activity["id"], bomb)
    assert r.status_code == 415 and "像素" in r.json()["detail"]
