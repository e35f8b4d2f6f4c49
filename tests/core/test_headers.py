"""Browser security headers: a strict policy for API answers, the SPA's own, HSTS only over TLS."""

from fastapi.testclient import TestClient


def test_api_answers_carry_security_headers_and_no_hsts_over_http(anon):
    r = anon.get("/api/v1/health")
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in r.headers
    problem = anon.get("/api/v1/auth/me")
    assert problem.status_code == 401 and problem.headers["x-content-type-options"] == "nosniff"


def test_hsts_is_sent_when_served_over_tls(app):
    r = TestClient(app, base_url="https://halfsky.example").get("/api/v1/health")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


def test_the_docs_page_may_load_swagger_ui_and_nothing_may_frame_it(anon):
    csp = anon.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in csp and "frame-ancestors 'none'" in csp
