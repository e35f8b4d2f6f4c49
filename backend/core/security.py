"""Passwords, tokens, and the field encryption used for sensitive personal data."""

import base64
import hashlib
import hmac
import os
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jose import JWTError, jwt
from pwdlib import PasswordHash

from backend.core.config import get_settings
from backend.core.errors import Unauthorized

JWT_ALGORITHM = "HS256"


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return _hasher().verify(password, hashed)
    except Exception:
        return False


@lru_cache
def dummy_hash() -> str:
    """Verified against when the username is unknown, so timing does not reveal which usernames exist."""
    return hash_password(secrets.token_urlsafe(16))


def create_access_token(
    *, subject: str, role: str, branch_id: int, now: datetime | None = None
) -> tuple[str, str, int]:
    settings = get_settings()
    now = now or datetime.now(UTC)
    lifetime = settings.access_token_minutes * 60
    jti = uuid.uuid4().hex
    claims = {
        "sub": subject,
        "role": role,
        "branch": branch_id,
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime)).timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM), jti, lifetime


def decode_access_token(token: str, *, verify_exp: bool = True) -> dict[str, Any]:
    settings = get_settings()
    claims = dict(_signed_claims(token, settings.secret_key, settings.jwt_audience, settings.jwt_issuer))
    if verify_exp and claims["exp"] <= time.time():
        raise Unauthorized("令牌无效或已过期")
    return claims


@lru_cache(maxsize=8192)
def _signed_claims(token: str, secret: str, audience: str, issuer: str) -> dict[str, Any]:
    """A token's claims once its signature, algorithm, audience and issuer are verified; expiry is checked on
    every use by the caller. A client sends the same token many times: it is verified once (a refused token
    raises, and exceptions are not cached)."""
    try:
        header = jwt.get_unverified_header(token)
        # Only the one algorithm we sign with: no "none", no RS/HS confusion.
        if header.get("alg") != JWT_ALGORITHM:
            raise Unauthorized("令牌无效")
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"verify_exp": False, "require_iat": True, "require_jti": True, "require_sub": True},
        )
    except JWTError as exc:
        raise Unauthorized("令牌无效或已过期") from exc
    if not isinstance(claims.get("exp"), int | float):
        raise Unauthorized("令牌无效")
    return claims


def new_opaque_token() -> str:
    return secrets.token_urlsafe(48)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Field encryption and blind indexes are keyed by PII_KEY. To rotate it, the new key becomes PII_KEY and the old
# one moves to PII_OLD_KEYS: values are written under the new key at once, read under whichever key their id
# names, and looked up by the hash of every key until `halfsky rotate-pii-key` has re-keyed the stored rows.
KEY_ID_SEPARATOR = (
    ":"  # never in base64, so "<key id>:<base64>" and a legacy bare "<base64>" cannot be confused
)


class UnknownKey(Exception):
    """A value was encrypted under a key that is neither PII_KEY nor one of PII_OLD_KEYS."""


@lru_cache(maxsize=64)
def _derive(root: str, purpose: str) -> bytes:
    return hmac.new(root.encode(), purpose.encode(), hashlib.sha256).digest()


@lru_cache(maxsize=16)
def key_id(root: str) -> str:
    """A short public name of a root key, stored with each value it encrypts (it does not reveal the key)."""
    return _derive(root, "key-id").hex()[:8]


def _roots() -> list[str]:
    settings = get_settings()
    return [settings.pii_key, *(k for k in settings.pii_old_keys if k and k != settings.pii_key)]


def current_key_id() -> str:
    return key_id(get_settings().pii_key)


def _derived_key(purpose: str) -> bytes:
    return _derive(get_settings().pii_key, purpose)


def blind_index(value: str, purpose: str = "lookup") -> str:
    """Keyed hash for exact lookups and duplicate checks of an encrypted field, under the current key."""
    return hmac.new(_derived_key("blind-index:" + purpose), value.encode(), hashlib.sha256).hexdigest()


def blind_indexes(value: str, purpose: str = "lookup") -> list[str]:
    """The value's hash under the current key and each old one: what a stored row may hold mid-rotation."""
    return [
        hmac.new(_derive(root, "blind-index:" + purpose), value.encode(), hashlib.sha256).hexdigest()
        for root in _roots()
    ]


def rotating() -> bool:
    """Old keys are configured: lookups must try every key's hash."""
    return len(_roots()) > 1


def encrypt_field(plaintext: str) -> str:
    """AES-256-GCM with a random nonce; stored as "<key id>:" + base64(nonce || ciphertext+tag)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_derived_key("field-encryption")).encrypt(nonce, plaintext.encode(), None)
    return current_key_id() + KEY_ID_SEPARATOR + base64.b64encode(nonce + sealed).decode()


def stored_key_id(stored: str) -> str | None:
    """The id of the key a stored value was encrypted under (None: written before values carried one)."""
    kid, sep, _ = stored.partition(KEY_ID_SEPARATOR)
    return kid if sep else None


def decrypt_field(stored: str) -> str:
    kid, sep, body = stored.partition(KEY_ID_SEPARATOR)
    roots = _roots()
    if sep:
        candidates = [r for r in roots if key_id(r) == kid]
        if not candidates:
            raise UnknownKey(f"value encrypted under key {kid}, which is neither PII_KEY nor in PII_OLD_KEYS")
    else:
        body, candidates = stored, roots
    raw = base64.b64decode(body)
    for root in candidates[:-1]:
        try:
            return AESGCM(_derive(root, "field-encryption")).decrypt(raw[:12], raw[12:], None).decode()
        except InvalidTag:
            continue
    return AESGCM(_derive(candidates[-1], "field-encryption")).decrypt(raw[:12], raw[12:], None).decode()


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if len(phone) <= 4:
        return "*" * len(phone)
    keep_head = 3 if len(phone) >= 11 else 1
    return phone[:keep_head] + "*" * (len(phone) - keep_head - 4) + phone[-4:]


def mask_id_number(id_number: str | None) -> str | None:
    if not id_number:
        return id_number
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)
