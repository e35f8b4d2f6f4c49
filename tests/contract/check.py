"""Contract checks `make test` runs against the committed OpenAPI document.

    python -m tests.contract.check schemathesis   # a short run over every operation, as the county admin
    python -m tests.contract.check python-client  # openapi-python-client must generate every schema and response

schemathesis drives a real `halfsky serve` on a fresh demo database (SQLite, in a temporary directory) and
fails on a 5xx, an undocumented status code, a content type or a body that does not match the document.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DOCUMENT = ROOT / "openapi" / "openapi.json"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Operations that end the admin's session or would take her rights away mid-run are left to their own tests.
EXCLUDED = r"^/api/v1/auth/(logout|refresh)$"


def free_port(first: int = 8400, last: int = 8499) -> int:
    for port in range(first, last + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8499")


def run_schemathesis(max_examples: int, seconds: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="halfsky-contract-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'halfsky.db'}",
        "MEDIA_DIR": str(work / "media"),
        "HALFSKY_SPA_DIR": str(work / "no-spa"),
    }
    halfsky = str(BIN / "halfsky")
    subprocess.run([halfsky, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([halfsky, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (work / "serve.log").open("wb")
    server = subprocess.Popen(
        [halfsky, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "county.admin", "password": "HalfSky-demo-2026"},
        ).json()
        started = time.perf_counter()
        result = subprocess.run(
            [
                str(BIN / "schemathesis"),
                "run",
                str(DOCUMENT),
                "--url",
                base,
                "-H",
                f"Authorization: Bearer {token['access_token']}",
                "--checks",
                CHECKS,
                "--exclude-path-regex",
                EXCLUDED,
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                str(max_examples),
                "--max-time",
                str(seconds),
                "--workers",
                "1",
                "--seed",
                "13",
                "--no-shrink",
                "--suppress-health-check",
                "all",
                "--max-failures",
                "20",
            ],
            cwd=work,
            env={**os.environ, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        out = result.stdout
        print(
            out[out.rfind("= SUMMARY =") :]
            if result.returncode == 0 and "= SUMMARY =" in out
            else out[-20000:]
        )
        print(f"schemathesis: exit {result.returncode} in {elapsed:.0f} s")
        return result.returncode
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def run_python_client() -> int:
    out = Path(tempfile.mkdtemp(prefix="halfsky-client-")) / "client"
    try:
        result = subprocess.run(
            [
                str(BIN / "openapi-python-client"),
                "generate",
                "--path",
                str(DOCUMENT),
                "--config",
                str(ROOT / "openapi" / "python-client.yaml"),
                "--output-path",
                str(out),
                "--meta",
                "none",
                "--fail-on-warning",
            ],
            capture_output=True,
            text=True,
        )
        noise = re.findall(
            r"^(WARNING.*|Cannot .*|Unable .*|Skipping .*)$", result.stdout + result.stderr, re.M
        )
        document = json.loads(DOCUMENT.read_text())
        made = {p.stem for p in (out / "models").glob("*.py")} if out.exists() else set()
        missing = [name for name in document["components"]["schemas"] if _snake(name) not in made]
        operations = sum(len(ops) for ops in document["paths"].values())
        modules = (
            len([p for p in (out / "api").rglob("*.py") if p.name != "__init__.py"]) if out.exists() else 0
        )
        print(
            f"openapi-python-client: {len(made)} models for {len(document['components']['schemas'])} schemas, "
            f"{modules} operation modules for {operations} operations"
        )
        problems = noise + [f"no model for schema {m}" for m in missing]
        if modules != operations:
            problems.append(f"{operations - modules} operations without a module")
        if result.returncode or problems:
            print(result.stdout[-5000:], result.stderr[-5000:], *problems, sep="\n")
            return 1
        return 0
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def _snake(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return name.lower().strip("_")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    code = 0
    if what in ("python-client", "all"):
        code |= run_python_client()
    if what in ("schemathesis", "all"):
        code |= run_schemathesis(
            int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10")),
            int(os.environ.get("SCHEMATHESIS_SECONDS", "45")),
        )
    sys.exit(code)
