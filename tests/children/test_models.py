from datetime import date

import pytest
import sqlalchemy as sa

from backend.children.models import (
    CarerKind,
    Child,
    ChildCategory,
    ConsentRelation,
    Pairing,
    PairingStatus,
    Sex,
)
from backend.core.security import blind_index, encrypt_field, mask_id_number
from backend.screenings.idcard import make_id_number


def _child(session, branch, seq: int) -> Child:
    number = make_id_number("430725", date(2015, 5, 1), seq)
    child = Child(
        name=f"孩子{seq}",
        sex=Sex.male,
        id_number_enc=encrypt_field(number),
        id_number_hash=blind_index(number, "child_id_number"),
        id_number_masked=mask_id_number(number),
        birth_date=date(2015, 5, 1),
        category=ChildCategory.left_behind_both_parents,
    )
    child.place_in(branch)
    session.add(child)
    session.flush()
    return child


def _pairing(session, child: Child, status: PairingStatus) -> Pairing:
    pairing = Pairing(
        child_id=child.id,
        carer_kind=CarerKind.member,
        carer_name="爱心妈妈",
        consent_on=date(2026, 1, 1),
        consent_by_name="张奶奶",
        consent_by_relation=ConsentRelation.guardian,
        starts_on=date(2026, 1, 2),
        status=status,
    )
    for column in ("branch_id", "a1", "a2", "a3", "a4"):
        setattr(pairing, column, getattr(child, column))
    session.add(pairing)
    session.flush()
    return pairing


def test_a_child_has_at_most_one_active_pairing_in_the_database(session, tree):
    child = _child(session, tree.village_a1, 1)
    _pairing(session, child, PairingStatus.ended)
    _pairing(session, child, PairingStatus.active)
    _pairing(session, child, PairingStatus.proposed)
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        _pairing(session, child, PairingStatus.active)


def test_one_child_per_id_number(session, tree):
    _child(session, tree.village_a1, 3)
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        _child(session, tree.village_b1, 3)
