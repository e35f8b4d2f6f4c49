"""Photos of activities and visits: checked by content (JPEG or PNG that really decodes), stored once per SHA-256, with a thumbnail."""

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps
from sqlmodel import Session, select

from backend.core.errors import NotFound, PayloadTooLarge, UnsupportedMedia
from backend.core.storage import media_store

MAX_BYTES = 10 * 1024 * 1024
# Refuse decompression bombs well before Pillow's own limit: a phone photo is at most ~50 megapixels.
MAX_PIXELS = 60_000_000
THUMB_SIZE = (320, 320)
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))


@dataclass
class StoredImage:
    sha256: str
    content_type: str
    size: int
    width: int
    height: int
    thumb_sha256: str


def key_for(sha256: str, ext: str) -> str:
    """Where a photo lives in the media store (a folder or a bucket): the same key on every machine."""
    return f"photos/{sha256[:2]}/{sha256}.{ext}"


def ext_for(content_type: str) -> str:
    return "png" if content_type == "image/png" else "jpg"


def read_limited(stream, limit: int = MAX_BYTES) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"照片不能超过 {limit // (1024 * 1024)} MB,请压缩后再传")
    return data


def sniff(data: bytes) -> str:
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    raise UnsupportedMedia("只能上传 JPEG 或 PNG 照片(按文件内容判断,改扩展名无效)")


def _decode(data: bytes, fmt: str) -> Image.Image:
    bad = UnsupportedMedia("照片文件已损坏或不是有效的 JPEG/PNG 图片")
    too_big = UnsupportedMedia("照片像素过大,请压缩后再传")
    try:
        # Opening reads only the header, so the pixel count is checked before anything is decoded.
        probe = Image.open(io.BytesIO(data), formats=[fmt])
        if probe.width * probe.height > MAX_PIXELS:
            raise too_big
        probe.verify()
        image = Image.open(io.BytesIO(data), formats=[fmt])
        image.load()
    except UnsupportedMedia:
        raise
    except Image.DecompressionBombError:
        raise too_big from None
    except Exception:  # any decoder error, truncation or decompression bomb
        raise bad from None
    return image


def thumbnail_bytes(image: Image.Image) -> bytes:
    thumb = ImageOps.exif_transpose(image)
    thumb.thumbnail(THUMB_SIZE)
    if thumb.mode not in ("RGB", "L"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def store_image(data: bytes) -> StoredImage:
    """Validate and store; identical content is written once and shared."""
    if not data:
        raise UnsupportedMedia("照片文件是空的")
    fmt = sniff(data)
    image = _decode(data, fmt)
    content_type, ext = _FORMATS[fmt]
    sha = hashlib.sha256(data).hexdigest()
    thumb = thumbnail_bytes(image)
    thumb_sha = hashlib.sha256(thumb).hexdigest()
    store = media_store()
    store.put(key_for(sha, ext), data, content_type)
    store.put(key_for(thumb_sha, "jpg"), thumb, "image/jpeg")
    return StoredImage(sha, content_type, len(data), image.width, image.height, thumb_sha)


# ---- a record's photos (activities, visits): one row per distinct image per owner, the files shared by content


def attach(
    session: Session, model: Any, owner: dict[str, int], data: bytes, caption: str | None, uploaded_by: str
) -> tuple[Any, bool]:
    """Store an image and link it to its owner (`{"activity_id": 7}`); the same image sent again is the row it
    made the first time. Answers (photo, newly added)."""
    stored = store_image(data)
    existing = session.exec(select(model).filter_by(**owner).where(model.sha256 == stored.sha256)).first()
    if existing is not None:
        return existing, False
    photo = model(
        **owner,
        sha256=stored.sha256,
        content_type=stored.content_type,
        size=stored.size,
        width=stored.width,
        height=stored.height,
        thumb_sha256=stored.thumb_sha256,
        caption=caption,
        uploaded_by=uploaded_by,
    )
    session.add(photo)
    session.flush()
    return photo, True


def photos_of(session: Session, model: Any, owner: dict[str, int]) -> list[Any]:
    return list(session.exec(select(model).filter_by(**owner).order_by(model.id)).all())


def photo_of(session: Session, model: Any, owner: dict[str, int], photo_id: int) -> Any:
    photo = session.exec(select(model).filter_by(**owner).where(model.id == photo_id)).first()
    if photo is None:
        raise NotFound("照片不存在")
    return photo


def file_of(photo: Any, thumbnail: bool = False) -> tuple[str, str]:
    """The media-store key and content type of a photo or of its thumbnail."""
    if thumbnail:
        return key_for(photo.thumb_sha256, "jpg"), "image/jpeg"
    return key_for(photo.sha256, ext_for(photo.content_type)), photo.content_type


def public_fields(photo: Any, base_url: str) -> dict[str, Any]:
    """What every photo answer carries, `base_url` being the photo's own address."""
    return {
        "id": photo.id,
        "content_type": photo.content_type,
        "size": photo.size,
        "width": photo.width,
        "height": photo.height,
        "sha256": photo.sha256,
        "caption": photo.caption,
        "url": base_url,
        "thumbnail_url": base_url + "/thumbnail",
        "created_at": photo.created_at,
    }
