"""A real HTTP receiver on 127.0.0.1 for webhook tests: it records what it got and can be down or slow."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Receiver:
    status: int = 204
    delay: float = 0.0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                if 200 <= receiver.status < 300:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def new_ticket(tree):
    """`new_ticket(client, **fields)` → the created ticket's JSON (asserting 201)."""
    from tests.tickets.conftest import DV_CALL

    def _create(client, **fields):
        r = client.post("/api/v1/tickets", json={**DV_CALL, "branch_id": tree.village_a1.id, **fields})
        assert r.status_code == 201, r.text
        return r.json()

    return _create
