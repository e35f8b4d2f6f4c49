"""Request ids on every log line of a request, JSON logs, and /metrics for allowed scrapers only."""

import json
import logging

import pytest
from fastapi.testclient import TestClient

import backend.core.deps as deps
from backend.core.config import get_settings
from backend.core.observability import JsonFormatter


@pytest.fixture
def lines():
    """The JSON lines every logger writes during the test."""
    captured: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            captured.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield captured
    root.removeHandler(handler)
    root.setLevel(level)


def test_the_callers_request_id_is_echoed_and_on_every_log_line_of_the_request(admin, lines, monkeypatch):
    original = deps.principal_from_claims

    def checking(session, claims):
        logging.getLogger("halfsky.test").info("checking the account in the unit of work's thread")
        return original(session, claims)

    monkeypatch.setattr(deps, "principal_from_claims", checking)
    r = admin.get("/api/v1/auth/me", headers={"X-Request-ID": "bureau-7f3a-0001"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "bureau-7f3a-0001"
    entries = [json.loads(line) for line in lines]
    thread_line = next(e for e in entries if e["logger"] == "halfsky.test")
    access = next(e for e in entries if e["logger"] == "halfsky.access")
    assert thread_line["request_id"] == access["request_id"] == "bureau-7f3a-0001"
    assert access["route"] == "/api/v1/auth/me" and access["status"] == 200 and access["duration_ms"] >= 0


def test_a_request_without_a_usable_id_gets_a_new_one(anon):
    first = anon.get("/api/v1/health").headers["x-request-id"]
    second = anon.get("/api/v1/health", headers={"X-Request-ID": "x" * 300}).headers["x-request-id"]
    third = anon.get("/api/v1/health", headers={"X-Request-ID": "semi;colon"}).headers["x-request-id"]
    assert len({first, second, third}) == 3 and all(len(i) == 16 for i in (first, second, third))


def test_an_unexpected_error_is_logged_with_the_request_id(app, admin, lines, monkeypatch):
    def broken(session, claims):
        raise RuntimeError("boom")

    monkeypatch.setattr(deps, "principal_from_claims", broken)
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get(
        "/api/v1/auth/me",
        headers={"X-Request-ID": "r-500", "Authorization": admin.client.headers["authorization"]},
    )
    assert r.status_code == 500
    errors = [json.loads(line) for line in lines if '"level": "error"' in line]
    assert errors and errors[0]["request_id"] == "r-500" and "RuntimeError: boom" in errors[0]["exception"]


def test_metrics_are_refused_outside_the_allowed_networks_without_the_token(app, monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_token", "scrape-token-for-tests-0123456789")
    outside = TestClient(app, client=("203.0.113.9", 5000))
    r = outside.get("/metrics")
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert outside.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    r = outside.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests-0123456789"})
    assert r.status_code == 200 and "halfsky_admission_units" in r.text


def test_metrics_from_an_allowed_network_count_requests_by_route_template_and_read_the_queues(
    admin, app, tree
):
    for _ in range(3):
        assert admin.get(f"/api/v1/branches/{tree.village_a1.id}").status_code == 200
    assert admin.get("/api/v1/branches/999999999").status_code == 404
    r = TestClient(app, client=("127.0.0.1", 5000)).get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text

    def value(sample: str) -> float:
        line = next(line for line in text.splitlines() if line.startswith(sample + " "))
        return float(line.split()[-1])

    route = 'method="GET",route="/api/v1/branches/{branch_id}"'
    assert value(f'halfsky_http_request_duration_seconds_count{{{route},status="200"}}') >= 3
    assert value(f'halfsky_http_request_duration_seconds_count{{{route},status="404"}}') >= 1
    assert value('halfsky_admission_units{state="waiting"}') == 0
    assert "# TYPE halfsky_task_queue_jobs gauge" in text
    assert "# TYPE halfsky_webhook_deliveries gauge" in text
