from datetime import date

import pytest

from backend.screenings.idcard import make_id_number

BORN = date(1975, 3, 8)


def idn(seq: int, born: date = BORN, region: str = "430725") -> str:
    """A valid ID number for a woman (even sequence digit)."""
    return make_id_number(region, born, (seq * 2) % 1000)


def woman_body(seq: int, branch, **extra) -> dict:
    return {
        "name": f"测试{seq}",
        "id_number": idn(seq),
        "phone": f"1390000{seq:04d}",
        "branch_id": branch.id,
        **extra,
    }


def record_body(woman_id: int, **extra) -> dict:
    return {
        "woman_id": woman_id,
        "kind": "cervical",
        "screened_on": date.today().isoformat(),
        "institution": "县妇幼保健院",
        "method": "cytology",
        "result": "normal",
        "tbs": "NILM",
        "consent": True,
        **extra,
    }


@pytest.fixture
def cadre_a(login, tree):
    return login("cadre", tree.town_a)


@pytest.fixture
def register(cadre_a, tree):
    """Register a woman in village A1 through the API, returning her JSON."""

    def _register(seq: int, branch=None, client=None) -> dict:
        r = (client or cadre_a).post("/api/v1/women", json=woman_body(seq, branch or tree.village_a1))
        assert r.status_code == 201, r.text
        return r.json()

    return _register
