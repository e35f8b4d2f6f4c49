import pytest
from pydantic import ValidationError

from backend.core.config import Settings


def test_production_refuses_a_short_or_default_key(monkeypatch):
    monkeypatch.setenv("HALFSKY_ENV", "production")
    monkeypatch.setenv("PII_KEY", "p" * 48)
    for weak in ("short", "changeme"):
        monkeypatch.setenv("SECRET_KEY", weak)
        with pytest.raises(ValidationError):
            Settings()
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    assert Settings().secret_key == "k" * 48


def test_a_missing_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HALFSKY_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PII_KEY", raising=False)
    first = Settings()
    assert len(first.secret_key) >= 32 and (tmp_path / "var" / "secret_key").exists()
    assert Settings().secret_key == first.secret_key and Settings().pii_key == first.pii_key


def test_cors_origins_from_a_comma_list(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "http://a.example, http://b.example")
    assert Settings().cors_origins == ["http://a.example", "http://b.example"]
