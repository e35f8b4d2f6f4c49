"""Settings read from the environment (and `.env`), with safe defaults for a local trial."""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

VAR_DIR = Path("var")
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'halfsky.db'}"
MIN_SECRET_LENGTH = 32
# Connections beyond the request threads: idempotency keys (two threads) and the two tasks a serve process runs.
SIDE_CONNECTIONS = 4
KNOWN_WEAK_KEYS = {"changeme", "secret", "dev", "development", "halfsky"}


def _persistent_secret(name: str, nbytes: int) -> str:
    """A random secret generated on first run and kept under var/ so restarts keep sessions and data readable."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(nbytes)
    path.write_text(value)
    path.chmod(0o600)
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    halfsky_env: str = "development"
    database_url: str = DEFAULT_SQLITE_URL
    secret_key: str = ""
    # Key for field encryption (AES-GCM) and blind indexes of ID numbers and phones.
    pii_key: str = ""
    # Retired keys still read while `halfsky rotate-pii-key` re-keys the stored values (comma-separated).
    pii_old_keys: Annotated[list[str], NoDecode] = []
    access_token_minutes: int = 30
    refresh_token_days: int = 14
    jwt_issuer: str = "halfsky"
    jwt_audience: str = "halfsky-api"
    cors_origins: Annotated[list[str], NoDecode] = []
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    idempotency_hours: int = 48
    # A key claimed longer ago than this that never committed belongs to a process that is gone (a request waits
    # at most the admission time limit, then runs in seconds): a resend takes it over and runs.
    idempotency_lease_seconds: float = 120.0
    media_dir: Path = VAR_DIR / "media"
    # s3://BUCKET[/PREFIX] keeps photos in an S3-compatible bucket (AWS_ENDPOINT_URL etc.), shared by every machine.
    media_url: str = ""
    # Threads per process for request units of work; see bench/README.md for why it is small.
    worker_threads: int = 4
    # Connections per process; by default the request threads plus a few for idempotency keys and tasks,
    # so a unit of work never waits for a connection.
    db_pool_size: int | None = None
    # Past `worker_threads` running units, a request waits in a queue of this length for at most this long,
    # then is answered 503 with Retry-After.
    admission_queue: int = 256
    admission_timeout_seconds: float = 15.0
    # /metrics answers scrapers from these networks, or anyone sending `Authorization: Bearer <metrics_token>`.
    metrics_networks: Annotated[list[str], NoDecode] = ["127.0.0.1/32", "::1/128"]
    metrics_token: str = ""
    log_level: str = "INFO"
    # One JSON access line per request (method, route, status, duration, request id).
    log_requests: bool = True

    @field_validator("cors_origins", "metrics_networks", "pii_old_keys", mode="before")
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            if value.strip().startswith("["):
                import json

                return json.loads(value)
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @property
    def pool_size(self) -> int:
        return self.db_pool_size or self.worker_threads + SIDE_CONNECTIONS

    @property
    def is_production(self) -> bool:
        return self.halfsky_env == "production"

    @model_validator(mode="after")
    def _keys(self):
        for field, filename in (("secret_key", "secret_key"), ("pii_key", "pii_key")):
            value = getattr(self, field)
            if self.is_production:
                if len(value) < MIN_SECRET_LENGTH or value.lower() in KNOWN_WEAK_KEYS:
                    raise ValueError(
                        f"{field.upper()} must be set to at least {MIN_SECRET_LENGTH} random characters in production"
                    )
            elif not value:
                setattr(self, field, _persistent_secret(filename, 48))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
