"""Factories for the cross-branch walk: one per path parameter of the served OpenAPI document.

A factory is keyed by the path up to its parameter, e.g. `activities/{activity_id}/photos/{photo_id}` or
`screenings/{record_id}` (the same parameter name can mean different records under different collections). It
makes one record of that kind in a given branch through the HTTP API, as a county administrator (or, where the
record takes the branch from its maker, as someone placed there), and answers its id. Records are made once per
branch and reused, so the member and the position on one path belong together.
"""

import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from openpyxl import load_workbook
from PIL import Image

from backend.branches.models import Branch
from backend.screenings.idcard import make_id_number
from tests.children.conftest import child_body
from tests.children.pairing_support import pairing_body, visit_body
from tests.conftest import Api, make_user

WALK_PASSWORD = "Walk-test-password-2026"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


def _created(r, *codes: int) -> dict:
    assert r.status_code in (codes or (201,)), f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


class SiblingRecords:
    """The records of one branch (and the branch itself), made on first use through the API."""

    def __init__(self, app, session, admin: Api, branch: Branch, seq: int):
        self.app = app
        self.session = session
        self.admin = admin
        self.branch = branch
        self.seq = seq
        self._made: dict[str, int] = {}
        self._local: dict[str, Api] = {}

    def id_for(self, key: str) -> int:
        if key not in self._made:
            factory = FACTORIES.get(key)
            assert factory is not None, f"add a factory for {key!r} in tests/walk_factories.py"
            self._made[key] = factory(self)
        return self._made[key]

    def local(self, role: str) -> Api:
        """A user of that role placed in this branch (for records that take their maker's branch)."""
        if role not in self._local:
            self._local[role] = Api(self.app, make_user(self.session, self.branch, role), self.branch)
        return self._local[role]

    @property
    def b(self) -> int:
        return self.branch.id


def _branch(w: SiblingRecords) -> int:
    return w.b


def _woman(w: SiblingRecords) -> int:
    body = {
        "name": f"走查{w.seq}",
        "id_number": make_id_number("430725", date(1976, 5, 4), (w.seq * 2) % 1000),
        "phone": f"1390001{w.seq:04d}",
        "branch_id": w.b,
    }
    return _created(w.admin.post("/api/v1/women", json=body))["id"]


def _screening(w: SiblingRecords) -> dict:
    if "_screening" not in w._made:
        body = {
            "woman_id": w.id_for("women/{woman_id}"),
            "kind": "cervical",
            "screened_on": date.today().isoformat(),
            "institution": "县妇幼保健院",
            "method": "cytology",
            "result": "suspected_positive",
            "tbs": "HSIL",
            "consent": True,
        }
        record = _created(w.admin.post("/api/v1/screenings", json=body))
        w._made["_screening"] = record["id"]
        w._made["_screening_follow_up"] = record["follow_up_id"]
    return {"id": w._made["_screening"], "follow_up_id": w._made["_screening_follow_up"]}


def _follow_up(w: SiblingRecords) -> int:
    fu = _screening(w)["follow_up_id"]
    assert fu, "a suspected positive result opens a follow-up"
    # Far enough along that every later step (and an aid application) exists.
    for action, body in (("notify", {}), ("recheck", {}), ("diagnose", {"diagnosis": "cancer"})):
        _created(w.admin.post(f"/api/v1/follow-ups/{fu}/actions/{action}", json=body), 200)
    return fu


def _aid(w: SiblingRecords) -> int:
    body = {"follow_up_id": w.id_for("follow-ups/{follow_up_id}"), "amount": "100.00"}
    return _created(w.admin.post("/api/v1/aid-applications", json=body))["id"]


def _plan(w: SiblingRecords) -> int:
    body = {"year": 2031, "target_count": 10, "branch_id": w.b}
    return _created(w.admin.post("/api/v1/screening-plans", json=body))["id"]


def _ticket(w: SiblingRecords) -> int:
    body = {
        "channel": "phone",
        "caller_name": "李秀英",
        "caller_phone": "13912345678",
        "category": "domestic_violence",
        "urgency": "normal",
        "summary": "走查用的工单",
        "branch_id": w.b,
    }
    return _created(w.admin.post("/api/v1/tickets", json=body))["id"]


def _activity(w: SiblingRecords) -> int:
    starts = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    body = {"type": "health_talk", "title": "走查讲座", "starts_at": starts, "branch_id": w.b}
    activity = _created(w.admin.post("/api/v1/activities", json=body))["id"]
    _created(w.admin.post(f"/api/v1/activities/{activity}/sign-ins", json={"head_count": 5}))
    return activity


def _photo(w: SiblingRecords) -> int:
    activity = w.id_for("activities/{activity_id}")
    r = w.admin.post(
        f"/api/v1/activities/{activity}/photos", files={"file": ("p.png", png_bytes(), "image/png")}
    )
    return _created(r)["id"]


def _member(w: SiblingRecords) -> int:
    return _created(w.admin.post("/api/v1/members", json={"name": f"走查委员{w.seq}", "branch_id": w.b}))[
        "id"
    ]


def _position(w: SiblingRecords) -> int:
    member = w.id_for("members/{member_id}")
    r = w.admin.post(
        f"/api/v1/members/{member}/positions", json={"title": "executive_member", "branch_id": w.b}
    )
    return _created(r)["id"]


def _recommendation(w: SiblingRecords) -> int:
    member = w.id_for("members/{member_id}")
    r = w.admin.post(f"/api/v1/members/{member}/recommendations", json={"recommended_to": "县委组织部"})
    return _created(r)["id"]


def _training(w: SiblingRecords) -> int:
    member = w.id_for("members/{member_id}")
    r = w.admin.post(f"/api/v1/members/{member}/trainings", json={"course": "基层妇联干部培训", "hours": 8})
    return _created(r)["id"]


def _team(w: SiblingRecords) -> int:
    body = {"name": f"走查服务队{w.seq}", "leader_name": "王队长", "branch_id": w.b}
    return _created(w.admin.post("/api/v1/volunteer-teams", json=body))["id"]


def _volunteer(w: SiblingRecords) -> int:
    body = {"team_id": w.id_for("volunteer-teams/{team_id}"), "name": "走查志愿者"}
    return _created(w.admin.post("/api/v1/volunteers", json=body))["id"]


def _service_record(w: SiblingRecords) -> int:
    body = {"volunteer_id": w.id_for("volunteers/{volunteer_id}"), "hours": "2", "target_group": "poor_women"}
    return _created(w.admin.post("/api/v1/service-records", json=body))["id"]


def _job(w: SiblingRecords) -> int:
    from backend.core.queue import run_due_now

    maker = w.local("cadre")
    template = maker.get("/api/v1/women/import-template")
    assert template.status_code == 200, template.text
    book = load_workbook(io.BytesIO(template.content))
    book.worksheets[0].append(
        ["走查", "110105194912310021", None, None]
    )  # a wrong check character: a failed row
    data = io.BytesIO()
    book.save(data)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = maker.post("/api/v1/women/imports", files={"file": ("名册.xlsx", data.getvalue(), xlsx)})
    job = _created(r, 202)["id"]
    run_due_now(w.app.state.db)
    return job


def _subscription(w: SiblingRecords) -> int:
    body = {
        "url": "https://receiver.example/hook",
        "events": ["screening.abnormal", "ticket.created"],
        "branch_id": w.b,
    }
    return _created(w.admin.post("/api/v1/webhooks/subscriptions", json=body))["id"]


def _delivery(w: SiblingRecords) -> int:
    sub = w.id_for("webhooks/subscriptions/{subscription_id}")
    w.id_for("screenings/{record_id}")  # made after the subscription (FACTORIES order), so delivered to it
    r = w.admin.get(f"/api/v1/webhooks/subscriptions/{sub}/deliveries")
    items = _created(r, 200)["items"]
    assert items, "an abnormal screening result in the subscription's branch is delivered to it"
    return items[0]["id"]


def _user(w: SiblingRecords) -> int:
    body = {
        "username": f"walk-{uuid.uuid4().hex[:8]}",
        "display_name": "走查用户",
        "role": "village_rep",
        "branch_id": w.b,
        "password": WALK_PASSWORD,
    }
    return _created(w.admin.post("/api/v1/users", json=body))["id"]


def _child(w: SiblingRecords) -> int:
    return _created(w.admin.post("/api/v1/children", json=child_body(w.seq, w.branch)))["id"]


def _home(w: SiblingRecords) -> int:
    body = {"name": f"走查儿童之家{w.seq}", "host": "village_room", "branch_id": w.b}
    home = _created(w.admin.post("/api/v1/children-homes", json=body))["id"]
    _created(w.admin.post(f"/api/v1/children-homes/{home}/inspections", json={"condition": "good"}))
    call = {"child_id": w.id_for("children/{child_id}"), "minutes": 10, "with_whom": "mother"}
    _created(w.admin.post(f"/api/v1/children-homes/{home}/calls", json=call))
    return home


def _pairing(w: SiblingRecords) -> int:
    carer = w.local("carer").account.id  # so the carer's own view of the child has someone to show it to
    body = pairing_body(w.id_for("children/{child_id}"), w.id_for("members/{member_id}"), carer_user_id=carer)
    pairing = _created(w.admin.post("/api/v1/pairings", json=body))["id"]
    _created(w.admin.post(f"/api/v1/pairings/{pairing}/actions/activate"), 200)
    return pairing


def _visit(w: SiblingRecords) -> int:
    pairing = w.id_for("pairings/{pairing_id}")
    return _created(w.admin.post(f"/api/v1/pairings/{pairing}/visits", json=visit_body()))["id"]


def _visit_photo(w: SiblingRecords) -> int:
    pairing, visit = w.id_for("pairings/{pairing_id}"), w.id_for("pairings/{pairing_id}/visits/{visit_id}")
    photo = {"file": ("v.png", png_bytes(), "image/png")}
    r = w.admin.post(
        f"/api/v1/pairings/{pairing}/visits/{visit}/photos", files=photo, data={"caption": "辅导作业"}
    )
    return _created(r)["id"]


# In the order the records are made: a subscription before the ticket whose event it receives.
FACTORIES: dict[str, Callable[[SiblingRecords], int]] = {
    "branches/{branch_id}": _branch,
    "webhooks/subscriptions/{subscription_id}": _subscription,
    "women/{woman_id}": _woman,
    "screenings/{record_id}": lambda w: _screening(w)["id"],
    "follow-ups/{follow_up_id}": _follow_up,
    "aid-applications/{aid_id}": _aid,
    "screening-plans/{plan_id}": _plan,
    "tickets/{ticket_id}": _ticket,
    "activities/{activity_id}": _activity,
    "activities/{activity_id}/photos/{photo_id}": _photo,
    "members/{member_id}": _member,
    "members/{member_id}/positions/{position_id}": _position,
    "members/{member_id}/recommendations/{recommendation_id}": _recommendation,
    "members/{member_id}/trainings/{training_id}": _training,
    "volunteer-teams/{team_id}": _team,
    "volunteers/{volunteer_id}": _volunteer,
    "service-records/{record_id}": _service_record,
    "jobs/{job_id}": _job,
    "webhooks/deliveries/{delivery_id}": _delivery,
    "users/{user_id}": _user,
    "children/{child_id}": _child,
    # A carer's own view of a child: any child of the sibling branch is not hers.
    "children/mine/{child_id}": lambda w: w.id_for("children/{child_id}"),
    "children-homes/{home_id}": _home,
    "pairings/{pairing_id}": _pairing,
    "pairings/{pairing_id}/visits/{visit_id}": _visit,
    "pairings/{pairing_id}/visits/{visit_id}/photos/{photo_id}": _visit_photo,
}
