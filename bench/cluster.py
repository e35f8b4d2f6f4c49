"""Many machines on one: Debian's nginx round-robin over `halfsky serve` processes that share nothing but
PostgreSQL and an S3 bucket, with `halfsky worker` processes beside them.

    .venv/bin/python bench/cluster.py [--clients 50] [--seconds 30] [--skip-checks]

Each API process runs in a directory of its own (its own `var/`, its own empty MEDIA_DIR, which must stay
empty); photos go to one bucket on moto's S3 server on a local port; every process is given the same
SECRET_KEY and PII_KEY, as every machine of an installation must be. nginx runs as a child process with a
generated configuration in a temporary directory.

First the rehearsal's checks (what tests/test_cluster.py asserts, printed here): a token from one process
works on the other, a photo uploaded through one is read through the other, a submission resent with the same
Idempotency-Key across both is one record, each periodic task runs once per period across both workers, each
webhook event is delivered once, and `kill -9` of one API process and one worker loses nothing while the
other pair carries on. Then bench/load.py's mix through nginx with one API process behind it, and with two.
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BUCKET = "halfsky-media"
ADMIN, ADMIN_PASSWORD = "cluster.admin", "Cluster-admin-2026"
# A dead worker's jobs are queued again after 3 s of silence here (30 s in production), checked every second.
# A subscription's delivery lease held by a dead worker lapses after 2 s here (60 s in production).
FAST_WORKER = {
    "HALFSKY_STALLED_WORKER_SECONDS": "3",
    "HALFSKY_STALLED_CHECK_SECONDS": "1",
    "HALFSKY_WEBHOOK_LEASE_SECONDS": "2",
    "HALFSKY_TASK_POLL_SECONDS": "0.2",
    "HALFSKY_WEBHOOK_TIMEOUT_SECONDS": "10",
}


# A resend takes over a key whose request never committed after 3 s here (120 s by default): the requests of
# the rehearsal run in milliseconds, and the one killed mid-request should not keep its phone waiting for long.
REHEARSAL = {"IDEMPOTENCY_LEASE_SECONDS": "3"}


def wait_for(check, timeout: float = 20.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free local port with an empty bucket; yields its endpoint URL."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = load.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="cluster",
            aws_secret_access_key="cluster",
        ).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


class Receiver:
    """A partner's webhook endpoint: records every delivery's webhook-id and body."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.received.append((self.headers.get("webhook-id", ""), json.loads(body)))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> Counter:
        with self.lock:
            return Counter(i for i, _ in self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


NGINX_CONF = """\
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 12m;
    upstream halfsky {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://halfsky;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_request_buffering on;
            proxy_next_upstream error timeout;
            proxy_read_timeout 60s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@dataclass
class Cluster:
    root: Path
    database_url: str
    env: dict[str, str]
    apis: dict[int, subprocess.Popen] = field(default_factory=dict)  # port → process
    workers: list[subprocess.Popen] = field(default_factory=list)
    nginx: subprocess.Popen | None = None
    base: str = ""

    def _dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def halfsky(self, *args: str, cwd: Path | None = None) -> None:
        subprocess.run(
            [load.HALFSKY, *args],
            env=self.env,
            cwd=cwd or self._dir("admin"),
            check=True,
            capture_output=True,
        )

    def start_api(self) -> int:
        port = load.free_port()
        home = self._dir(f"api-{port}")
        env = {**self.env, "MEDIA_DIR": str(home / "media")}
        log = open(home / "serve.log", "wb")  # noqa: SIM115
        self.apis[port] = subprocess.Popen(
            [
                load.HALFSKY,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-worker",
            ],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return port

    def wait_api(self, port: int) -> None:
        def up() -> bool:
            if self.apis[port].poll() is not None:
                raise RuntimeError(
                    (self.root / f"api-{port}" / "serve.log").read_text(errors="replace")[-3000:]
                )
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        if not wait_for(up, 60):
            raise RuntimeError(f"halfsky serve on {port} did not start")

    def start_worker(self) -> subprocess.Popen:
        home = self._dir(f"worker-{len(self.workers)}")
        log = open(home / "worker.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [load.HALFSKY, "worker", "--concurrency", "2"],
            env={**self.env, **FAST_WORKER, "MEDIA_DIR": str(home / "media")},
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    def start_nginx(self, ports: list[int]) -> str:
        home = self._dir("nginx")
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (home / sub).mkdir(exist_ok=True)
        port = load.free_port()
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)
        # Run as root (CI), nginx's workers would switch to `nobody` and lose the temporary directory.
        user = "user root;" if os.geteuid() == 0 else ""
        conf = home / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, dir=home, servers=servers, port=port))
        self.nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(home), "-e", str(home / "error.log"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if self.nginx.poll() is not None:
                raise RuntimeError(f"nginx: {self.nginx.stderr.read().decode(errors='replace')}")
            try:
                return httpx.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        if not wait_for(up, 20):
            raise RuntimeError("nginx did not start")
        return self.base

    def tracebacks(self) -> dict[str, str]:
        """Each process log with a traceback in it → the exception's last line."""
        found = {}
        for log in sorted(self.root.glob("*/*.log")):
            for line in log.read_text(errors="replace").splitlines():
                if "Traceback" not in line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    record = {"message": line}
                trace = [
                    t
                    for t in str(record.get("exc_info") or record.get("exception") or line).splitlines()
                    if t
                ]
                found[log.parent.name] = f"{record.get('message', '')[:120]} | {trace[-1][:200]}"
        return found

    def media_dirs_empty(self) -> bool:
        return not any(p.is_file() for p in self.root.glob("*/media/**/*"))

    def stop(self) -> None:
        for process in [*self.apis.values(), *self.workers, *([self.nginx] if self.nginx else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.apis.values(), *self.workers, *([self.nginx] if self.nginx else [])]:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def cluster(
    *,
    apis: int = 2,
    workers: int = 2,
    demo: bool = False,
    template: str | None = None,
    pg_server: str = load.PG_SERVER,
    env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """A fresh PostgreSQL database (or a copy of `template`) and bucket, `apis` API processes and `workers`
    workers, nginx in front; without the demo county, one county admin is created."""
    root = Path(tempfile.mkdtemp(prefix="halfsky-cluster-"))
    url = load.fresh_database("postgres", root, pg_server, template)
    env_extra = env
    with s3_server() as endpoint:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "MEDIA_URL": f"s3://{BUCKET}/media",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "cluster",
            "AWS_SECRET_ACCESS_KEY": "cluster",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "cluster-secret-" + uuid.uuid4().hex * 2,
            "PII_KEY": os.environ.get("PII_KEY") or "cluster-pii-" + uuid.uuid4().hex * 2,
        }
        env.pop("HALFSKY_ENV", None)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        c = Cluster(root, url, env | (env_extra or {}))
        try:
            if template is None:
                c.halfsky("migrate")
                if demo:
                    c.halfsky("demo")
                else:
                    c.halfsky(
                        "create-admin",
                        "--username",
                        ADMIN,
                        "--password",
                        ADMIN_PASSWORD,
                        "--branch-name",
                        "演练县",
                        "--branch-kind",
                        "county",
                    )
            ports = [c.start_api() for _ in range(apis)]
            for _ in range(workers):
                c.start_worker()
            for port in ports:
                c.wait_api(port)
            c.start_nginx(ports)
            yield c
        finally:
            c.stop()
            load.drop_database(url, pg_server)
            shutil.rmtree(root, ignore_errors=True)


# ---- the rehearsal's checks; each returns what it saw, tests/test_cluster.py asserts it


def token(http: httpx.Client, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> tuple[str, str]:
    """(access token, the upstream that issued it)."""
    r = http.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )
    r.raise_for_status()
    return r.json()["access_token"], r.headers["x-upstream"]


def check_token_across(http: httpx.Client) -> dict:
    access, issuer = token(http)
    seen = {}
    for _ in range(4):
        r = http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"})
        seen[r.headers["x-upstream"]] = r.status_code
    return {"issuer": issuer, "answers": seen}


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


def new_activity(http: httpx.Client, auth: dict, **fields) -> dict:
    r = http.post(
        "/api/v1/activities",
        headers=auth,
        json={"type": "health_talk", "title": "两癌防治知识讲座", **fields},
    )
    r.raise_for_status()
    return r.json()


def check_photo_across(http: httpx.Client, auth: dict) -> dict:
    png = _png()
    activity = new_activity(http, auth)
    up = http.post(
        f"/api/v1/activities/{activity['id']}/photos",
        headers=auth,
        files={"file": ("a.png", png, "image/png")},
    )
    up.raise_for_status()
    photo = up.json()
    reads = []
    for url in (photo["url"], photo["url"], photo["thumbnail_url"], photo["thumbnail_url"]):
        r = http.get(url, headers=auth)
        reads.append(
            (
                r.headers["x-upstream"],
                r.status_code,
                r.headers.get("content-type"),
                r.content == png if url == photo["url"] else len(r.content) > 0,
            )
        )
    return {"uploaded_on": up.headers["x-upstream"], "reads": reads}


def check_idempotency_across(http: httpx.Client, auth: dict) -> dict:
    title = f"idem-{uuid.uuid4().hex[:8]}"
    headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
    answers = []
    for _ in range(3):
        r = http.post("/api/v1/activities", headers=headers, json={"type": "health_talk", "title": title})
        answers.append(
            (r.headers["x-upstream"], r.status_code, r.json().get("id"), r.headers.get("idempotent-replayed"))
        )
    listed = http.get("/api/v1/activities", headers=auth, params={"q": title}).json()
    return {"answers": answers, "records": listed["total"]}


def subscribe(http: httpx.Client, auth: dict, url: str, events: list[str]) -> dict:
    r = http.post("/api/v1/webhooks/subscriptions", headers=auth, json={"url": url, "events": events})
    r.raise_for_status()
    return r.json()


def new_ticket(
    http: httpx.Client, auth: dict, summary: str, branch_id: int, key: str | None = None, tries: int = 30
) -> dict | None:
    """A phone's submission: sent again with the same Idempotency-Key after a 502/503/409 or a lost answer."""
    body = {
        "channel": "phone",
        "caller_name": "来电人",
        "caller_phone": "13800138000",
        "branch_id": branch_id,
        "category": "consultation",
        "summary": summary,
    }
    headers = {**auth, "Idempotency-Key": key or uuid.uuid4().hex}
    for _ in range(tries):
        try:
            r = http.post("/api/v1/tickets", headers=headers, json=body)
        except httpx.HTTPError:
            time.sleep(0.3)
            continue
        if r.status_code == 201:
            return r.json()
        if r.status_code == 409 and r.json().get("type", "").endswith("idempotency-completed"):
            return {}  # saved by a process that died before it answered: the phone is told so
        if r.status_code not in (409, 502, 503, 504):
            raise RuntimeError(f"{r.status_code} {r.text}")
        time.sleep(float(r.headers.get("retry-after", 0.3)))
    return None


def periodic_runs(database_url: str) -> dict:
    """Per (task, period): how many jobs; and the periods that succeeded, per task."""
    from backend.core.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT task_name, (args->>'timestamp')::bigint, count(*), "
                "count(*) FILTER (WHERE status = 'succeeded') FROM procrastinate_jobs "
                "WHERE args ? 'timestamp' GROUP BY 1, 2"
            )
        ).all()
    engine.dispose()
    return {
        "duplicated": [(t, p, n) for t, p, n, _ in rows if n != 1],
        "succeeded": {t: sorted(p for t2, p, _, ok in rows if t2 == t and ok) for t in {r[0] for r in rows}},
    }


def tickets_stored(database_url: str, summaries: set[str]) -> Counter:
    from backend.core.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT summary FROM ticket WHERE summary IN :s").bindparams(
                sa.bindparam("s", expanding=True)
            ),
            {"s": sorted(summaries)},
        ).all()
    engine.dispose()
    return Counter(r[0] for r in rows)


def events_of(database_url: str, kind: str) -> set[str]:
    from backend.core.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as conn:
        ids = {str(r[0]) for r in conn.execute(sa.text("SELECT id FROM event WHERE type = :k"), {"k": kind})}
    engine.dispose()
    return ids


def rehearse(c: Cluster, *, writers: int = 4, seconds: float = 6.0) -> dict:
    """Every check of the rehearsal against a running two-and-two cluster, in order; returns what each saw."""
    out: dict = {}
    receiver = Receiver()
    try:
        with httpx.Client(base_url=c.base, timeout=30) as http:
            out["token"] = check_token_across(http)
            access, _ = token(http)
            auth = {"Authorization": f"Bearer {access}"}
            branch_id = http.get("/api/v1/auth/me", headers=auth).json()["branch"]["id"]
            out["photo"] = check_photo_across(http, auth)
            out["media_dirs_empty"] = c.media_dirs_empty()
            out["idempotency"] = check_idempotency_across(http, auth)
            subscribe(http, auth, receiver.url, ["ticket.created"])

            calm = {f"calm-{uuid.uuid4().hex[:8]}" for _ in range(10)}
            for summary in calm:
                new_ticket(http, auth, summary, branch_id)
            wait_for(lambda: len(receiver.ids()) >= len(calm), 30)
            out["calm_deliveries"] = receiver.ids()

            # kill -9 one API process and one worker while phones keep writing through nginx.
            acked: set[str] = set()
            lock = threading.Lock()
            stop_at = time.monotonic() + seconds

            def write(n: int) -> None:
                with httpx.Client(base_url=c.base, timeout=30) as own:
                    i = 0
                    while time.monotonic() < stop_at:
                        i += 1
                        summary = f"storm-{n}-{i}-{uuid.uuid4().hex[:6]}"
                        if new_ticket(own, auth, summary, branch_id) is not None:
                            with lock:
                                acked.add(summary)

            threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
            for t in threads:
                t.start()
            time.sleep(seconds / 3)
            victim_port = next(iter(c.apis))
            c.apis[victim_port].send_signal(signal.SIGKILL)
            c.workers[0].send_signal(signal.SIGKILL)
            killed_at = time.time()
            for t in threads:
                t.join()
            out["killed"] = {"api": f"127.0.0.1:{victim_port}", "acknowledged": len(acked)}
            after = []
            for _ in range(4):
                r = http.get("/api/v1/auth/me", headers=auth)
                after.append((r.headers.get("x-upstream"), r.status_code))
            out["after_kill"] = after
            stored = tickets_stored(c.database_url, acked)
            out["stored"] = {
                "acknowledged": len(acked),
                "stored": sum(1 for s in acked if stored[s] >= 1),
                "twice": sum(1 for s in acked if stored[s] > 1),
            }
            expected = events_of(c.database_url, "ticket.created")
            wait_for(lambda: expected <= {_event_id(i) for i in receiver.ids()}, 40)
            got = receiver.ids()
            out["events"] = {
                "written": len(expected),
                "delivered": len(got),
                "missing": len(expected - {_event_id(i) for i in got}),
                "delivered_twice": sum(1 for n in got.values() if n > 1),
            }
            # The surviving worker carries on: periodic runs in periods after the kill.
            time.sleep(3)
            runs = periodic_runs(c.database_url)
            out["periodic"] = {
                "duplicated": runs["duplicated"],
                "after_kill": {t: sum(1 for p in ps if p > killed_at) for t, ps in runs["succeeded"].items()},
                "tasks": sorted(runs["succeeded"]),
            }
            out["tracebacks"] = c.tracebacks()
            out["alive"] = {
                "apis": [p.poll() is None for p in c.apis.values()],
                "workers": [w.poll() is None for w in c.workers],
            }
    finally:
        receiver.stop()
    return out


def _event_id(webhook_id: str) -> str:
    """The outbox event's id in a webhook-id (`evt_<id>`)."""
    return webhook_id.removeprefix("evt_")


# ---- load through nginx


def load_through(template: str, apis: int, clients: int, seconds: float) -> str:
    with cluster(apis=apis, workers=2, template=template) as c:
        tally = asyncio.run(load.drive(c.base, clients, seconds))
        text = load.report(f"{apis} api", clients, seconds, tally, load.stored(c.database_url, tally))
        tracebacks = sum(
            (c.root / f"api-{p}" / "serve.log").read_text(errors="replace").count("Traceback") for p in c.apis
        )
        if tracebacks:
            text += f"\n         server logs: {tracebacks} tracebacks"
        return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--skip-checks", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(load.ROOT))
    # Every machine gets the same keys; the demo's personal data is encrypted with this PII_KEY.
    os.environ.setdefault("SECRET_KEY", "cluster-secret-" + "k" * 40)
    os.environ.setdefault("PII_KEY", "cluster-pii-" + "p" * 40)
    if not args.skip_checks:
        with cluster(env=REHEARSAL) as c:
            for name, seen in rehearse(c).items():
                print(f"{name:18} {seen}", flush=True)
    lines = []
    with load.demo_database("postgres") as template:
        for apis in (1, 2):
            lines.append(load_through(template, apis, args.clients, args.seconds))
            print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
