"""The `halfsky` command on a fresh SQLite file: migrate, import a county, create its admin, log in."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.demo import DIVISIONS_DIR

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.environ.get("TEST_DB") == "postgres", reason="the CLI is exercised once, on SQLite")
def test_a_real_installation_from_the_command_line(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
        "HALFSKY_ADMIN_PASSWORD": "Admin-pass-2026",
    }

    def halfsky(*args):
        return subprocess.run(
            [sys.executable, "-m", "backend.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert halfsky("migrate").returncode == 0
    r = halfsky("import-divisions", str(DIVISIONS_DIR), "--under", "430725")
    assert r.returncode == 0, r.stderr
    assert '"villages": 430' in r.stdout
    r = halfsky("import-divisions", str(DIVISIONS_DIR), "--under", "430725")
    assert '"villages": 0' in r.stdout
    r = halfsky("create-admin", "--username", "taoyuan.admin", "--branch-code", "430725")
    assert r.returncode == 0, r.stderr
    assert halfsky("create-admin", "--username", "taoyuan.admin", "--branch-code", "430725").returncode != 0
    r = halfsky("demo")
    assert "not empty" in r.stdout
    check = (
        "from fastapi.testclient import TestClient; from backend.main import create_app;"
        "c = TestClient(create_app());"
        "t = c.post('/api/v1/auth/token', data={'grant_type': 'password', 'username': 'taoyuan.admin',"
        " 'password': 'Admin-pass-2026'}).json()['access_token'];"
        "print(c.get('/api/v1/branches', params={'kind': 'township'},"
        " headers={'Authorization': 'Bearer ' + t}).json()['total'])"
    )
    r = subprocess.run(
        [sys.executable, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.stdout.strip() == "27", r.stderr


def test_production_refuses_the_demo(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
        "HALFSKY_ENV": "production",
        "SECRET_KEY": "s" * 48,
        "PII_KEY": "p" * 48,
    }
    subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    r = subprocess.run(
        [sys.executable, "-m", "backend.cli", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0 and "production" in r.stderr
