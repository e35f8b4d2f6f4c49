"""Rotating PII_KEY while the app serves: values carry their key id, `halfsky rotate-pii-key` re-encrypts and
re-keys the blind indexes in batches, a run killed part-way is simply run again, and then the old key retires."""

import json
import secrets
import signal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.core.config import get_settings
from backend.core.db import Database, make_engine
from backend.core.keys import not_under_current_key
from backend.core.migrate import upgrade
from backend.core.security import (
    UnknownKey,
    blind_index,
    current_key_id,
    decrypt_field,
    encrypt_field,
    key_id,
    stored_key_id,
)
from backend.main import create_app
from backend.screenings.models import Woman
from bench import rotate_pii
from tests.conftest import make_user, token_for
from tests.core.test_backup import fresh  # noqa: F401  (fixture: a fresh database of the kind under test)

OLD, NEW = secrets.token_urlsafe(48), secrets.token_urlsafe(48)


@pytest.fixture
def keys(monkeypatch):
    settings = get_settings()

    def use(current: str, *old: str) -> None:
        monkeypatch.setattr(settings, "pii_key", current)
        monkeypatch.setattr(settings, "pii_old_keys", list(old))

    return use


def test_values_carry_their_key_id_and_old_values_read_until_the_key_is_retired(keys):
    keys(OLD)
    sealed = encrypt_field("13900001111")
    assert stored_key_id(sealed) == key_id(OLD) and "13900001111" not in sealed
    keys(NEW, OLD)
    assert decrypt_field(sealed) == "13900001111" and stored_key_id(encrypt_field("x")) == key_id(NEW)
    keys(NEW)
    with pytest.raises(UnknownKey):
        decrypt_field(sealed)


def test_a_value_written_before_key_ids_still_reads(keys):
    keys(OLD)
    legacy = encrypt_field("430725197501010012").partition(":")[2]
    keys(NEW, OLD)
    assert stored_key_id(legacy) is None and decrypt_field(legacy) == "430725197501010012"


def _woman(engine, woman_id: int) -> Woman:
    with Session(engine) as session:
        return session.get(Woman, woman_id)


def test_rotation_killed_part_way_then_run_again_rekeys_everything_while_the_app_serves(fresh, keys):  # noqa: F811
    url = fresh()
    upgrade(url)
    keys(OLD)
    data = rotate_pii.fill(url, 3000)
    engine = make_engine(url)
    with Session(engine) as session:
        token = token_for(make_user(session, data.county, "county_admin", username="rotation.admin"))
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.select(Woman.id).order_by(Woman.id))]
    first, last = (ids[0], data.people[0]), (ids[-1], data.people[-1])

    # The operator restarts every process with the new key and the old one retired to PII_OLD_KEYS.
    keys(NEW, OLD)
    app = create_app(Database(engine))
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})

    job = rotate_pii.rotate_cli(url, NEW, OLD, "--batch-size", "20")
    for _ in range(5):  # five batches committed, then the machine dies
        assert "re-keyed so far" in job.stdout.readline()
    job.send_signal(signal.SIGKILL)
    job.wait()
    half = not_under_current_key(Database(engine))
    assert 0 < half["woman"] < 3000, half

    # Mid-rotation the app serves: both halves are found by ID number, a duplicate is refused across keys,
    # new writes go under the new key.
    for woman_id, person in (first, last):
        found = client.post("/api/v1/women/lookup", json={"id_number": person.id_number})
        assert found.status_code == 200 and found.json()["id"] == woman_id
    assert stored_key_id(_woman(engine, last[0]).id_number_enc) == key_id(OLD)
    again = client.post(
        "/api/v1/women",
        json={"name": last[1].name, "id_number": last[1].id_number, "branch_id": data.village.id},
    )
    assert again.status_code == 409, again.text
    moved = client.patch(f"/api/v1/women/{last[0]}", json={"phone": "13700000000"})
    assert moved.status_code == 200, moved.text
    newcomer = client.post(
        "/api/v1/women",
        json={
            "name": "新登记",
            "id_number": rotate_pii.id_number(999_999),
            "phone": "13600000000",
            "branch_id": data.village.id,
        },
    )
    assert newcomer.status_code == 201, newcomer.text
    assert stored_key_id(_woman(engine, newcomer.json()["id"]).phone_enc) == key_id(NEW)

    job = rotate_pii.rotate_cli(url, NEW, OLD, "--batch-size", "500")
    out, err = job.communicate(timeout=300)
    assert job.returncode == 0, err
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    assert report["left"] == {} and 0 < report["rewritten"] < 3000 and "remove the old key" in out

    # The old key retires: everything reads and is found under the new key alone.
    keys(NEW)
    assert current_key_id() == key_id(NEW) and not_under_current_key(Database(engine)) == {}
    for woman_id, person in (first, last, (ids[1500], data.people[1500])):
        stored = _woman(engine, woman_id)
        assert stored.id_number_hash == blind_index(person.id_number, "id_number")
        assert decrypt_field(stored.id_number_enc) == person.id_number
        revealed = client.get(f"/api/v1/women/{woman_id}/pii")
        assert revealed.status_code == 200 and revealed.json()["id_number"] == person.id_number
        assert (
            client.post("/api/v1/women/lookup", json={"id_number": person.id_number}).json()["id"] == woman_id
        )
    assert client.get(f"/api/v1/women/{last[0]}/pii").json()["phone"] == "13700000000", (
        "the app's change was kept"
    )
    assert _woman(engine, first[0]).phone_hash == blind_index(first[1].phone, "phone")
    engine.dispose()
