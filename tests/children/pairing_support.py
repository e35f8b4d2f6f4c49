"""Helpers shared by the pairing, visit and figures tests."""

from datetime import date, timedelta

from backend.core.clock import today_in_china
from backend.members.models import Member

P = "/api/v1/pairings"


def make_member(session, branch, name: str = "王爱心") -> Member:
    member = Member(name=name)
    member.place_in(branch)
    session.add(member)
    session.commit()
    return member


def pairing_body(child_id: int, member_id: int, **extra) -> dict:
    return {
        "child_id": child_id,
        "carer_kind": "member",
        "member_id": member_id,
        "consent_on": (today_in_china() - timedelta(days=3)).isoformat(),
        "consent_by_name": "张桂英",
        "consent_by_relation": "guardian",
        **extra,
    }


def propose(client, child_id: int, member_id: int, **extra) -> dict:
    r = client.post(P, json=pairing_body(child_id, member_id, **extra))
    assert r.status_code == 201, r.text
    return r.json()


def activate(client, pairing_id: int) -> dict:
    r = client.post(f"{P}/{pairing_id}/actions/activate")
    assert r.status_code == 200, r.text
    return r.json()


def visit_body(on: date | None = None, **extra) -> dict:
    return {
        "visited_on": (on or today_in_china()).isoformat(),
        "mode": "home",
        "done": "辅导作业,聊了学校的事",
        "study": "good",
        "health": "good",
        "mood": "fair",
        **extra,
    }
