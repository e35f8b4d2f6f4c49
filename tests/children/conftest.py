from datetime import date

import pytest

from backend.children.models import CarerKind, ConsentRelation, Pairing, PairingStatus
from backend.core.clock import today_in_china
from backend.screenings.idcard import make_id_number

BORN = date(2016, 6, 1)


def child_idn(seq: int, born: date = BORN, region: str = "430725") -> str:
    """A valid ID number for a child (odd sequence digit: a boy)."""
    return make_id_number(region, born, (seq * 2 + 1) % 1000)


def child_body(seq: int, branch, **extra) -> dict:
    return {
        "name": f"小明{seq}",
        "id_number": child_idn(seq),
        "category": "left_behind_both_parents",
        "school": "桃源县第一小学",
        "grade": "三年级",
        "guardian_relation": "grandparent",
        "guardian_name": "张桂英",
        "guardian_phone": "13900001111",
        "father_work_place": "out_of_province",
        "father_city": "东莞",
        "father_phone": "13800002222",
        "mother_work_place": "out_of_province",
        "mother_city": "深圳",
        "mother_phone": "13700003333",
        "branch_id": branch.id,
        **extra,
    }


@pytest.fixture
def cadre_a(login, tree):
    return login("cadre", tree.town_a)


@pytest.fixture
def rep_a1(login, tree):
    return login("village_rep", tree.village_a1)


@pytest.fixture
def register(cadre_a, tree):
    """Register a child in village A1 (or `branch`) through the API, returning her JSON."""

    def _register(seq: int, branch=None, client=None, **extra) -> dict:
        r = (client or cadre_a).post(
            "/api/v1/children", json=child_body(seq, branch or tree.village_a1, **extra)
        )
        assert r.status_code == 201, r.text
        return r.json()

    return _register


@pytest.fixture
def carer(login, tree):
    """A 爱心妈妈 of village A1, signed in."""
    return login("carer", tree.village_a1, display_name="李爱心")


@pytest.fixture
def pair(session):
    """Pair a child with a carer's account (the pairing rules live with pairings; here only the row)."""

    def _pair(
        child_id: int, carer_user_id: int | None, status: PairingStatus = PairingStatus.active
    ) -> Pairing:
        from backend.children.models import Child

        child = session.get(Child, child_id)
        pairing = Pairing(
            child_id=child_id,
            carer_kind=CarerKind.member,
            carer_user_id=carer_user_id,
            carer_name="李爱心",
            consent_on=today_in_china(),
            consent_by_name="张桂英",
            consent_by_relation=ConsentRelation.guardian,
            starts_on=today_in_china(),
            status=status,
            next_visit_due_on=today_in_china(),
        )
        for column in ("branch_id", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"):
            setattr(pairing, column, getattr(child, column))
        session.add(pairing)
        session.commit()
        return pairing

    return _pair
