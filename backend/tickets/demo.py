"""A few hundred 12338 tickets across the demo county, in every state, some overdue, some sealed."""

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from backend.core.clock import china_date, china_day_start
from backend.core.db import insert_ids, utcnow
from backend.core.scope import ancestor_values
from backend.core.security import blind_index, encrypt_field, mask_name, mask_phone
from backend.tickets.models import Status, Ticket, TicketCounter, TicketEvent
from backend.tickets.service import PHONE_INDEX
from backend.tickets.sla import DEFAULT_SLA, WorkCalendar, due_at

TICKETS = 320
SUMMARIES = {
    "marriage_family": ["离婚后孩子抚养费拒付", "丈夫长期外出不归,不给生活费", "婆媳矛盾激烈,要求调解"],
    "domestic_violence": ["丈夫酒后殴打", "长期遭受精神控制和威胁", "前夫上门骚扰、扬言伤人"],
    "personal_rights": ["被网上散布隐私照片", "被邻居辱骂推搡"],
    "property_land": ["出嫁女土地征收补偿款被村组拒发", "离婚后宅基地权益被剥夺"],
    "labour_social_security": ["孕期被公司辞退", "工厂拖欠工资三个月", "产假工资未发放"],
    "children": ["留守儿童无人照看", "孩子在校被欺凌"],
    "consultation": ["咨询人身安全保护令申请", "咨询离婚财产分割", "咨询法律援助条件"],
    "other": ["反映村妇联工作问题"],
}
CATEGORY_WEIGHTS = {
    "marriage_family": 26,
    "domestic_violence": 18,
    "personal_rights": 6,
    "property_land": 12,
    "labour_social_security": 10,
    "children": 6,
    "consultation": 18,
    "other": 4,
}
STATE_WEIGHTS = {"new": 8, "assigned": 12, "in_progress": 18, "referred": 10, "resolved": 14, "closed": 38}
REFERRALS = [
    "police",
    "court",
    "legal_aid",
    "justice_bureau",
    "labour_bureau",
    "civil_affairs",
    "procuratorate",
    "health",
    "other",
]


def _pick(rng, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def load(session: Session, ctx: Any) -> None:
    rng = ctx.rng
    cal = WorkCalendar()
    end_of_today = china_day_start(ctx.today + timedelta(days=1))
    now = min(utcnow(), end_of_today)
    operator, admin = ctx.users["hotline.operator"], ctx.users["county.admin"]
    people = {u.branch_id: u for key, u in ctx.users.items() if key.endswith((".cadre", ".rep"))}
    town_of = {v.id: t for t in ctx.townships for v in ctx.villages_of(t)}
    # Half the calls come from the two townships that have demo logins, so those logins have work to do.
    staffed = [v for t in ctx.townships[:2] for v in ctx.villages_of(t)]

    def actor(branch) -> tuple[int | None, str]:
        user = people.get(branch.id)
        if user is not None:
            return user.id, user.display_name
        return None, f"{branch.name}妇联 {ctx.rng.choice('王李张刘陈杨')}主席"

    plan = []
    for _ in range(TICKETS):
        state = _pick(rng, STATE_WEIGHTS)
        # Open cases are mostly recent (about a quarter of them late); finished ones spread over four months.
        age = (
            rng.uniform(0, 4)
            if state in ("new", "assigned")
            else rng.uniform(0, 24)
            if state in ("in_progress", "referred")
            else rng.uniform(3, 120)
        )
        plan.append((now - timedelta(days=age), state))
    plan.sort(key=lambda p: p[0])
    reps = [u for key, u in ctx.users.items() if key.endswith(".rep")]
    rep_villages = [v for v in ctx.villages if any(u.branch_id == v.id for u in reps)]
    tickets, timelines, phones = [], [], []
    for created, state in plan:
        category = _pick(rng, CATEGORY_WEIGHTS)
        urgency = (
            "critical"
            if category == "domestic_violence" and rng.random() < 0.4
            else rng.choices(["normal", "urgent"], weights=[80, 20])[0]
        )
        sealed = category == "domestic_violence" and rng.random() < 0.35
        village = rng.choice(staffed if sealed or rng.random() < 0.5 else ctx.villages)
        if rep_villages and not sealed and rng.random() < 0.08:
            village = rng.choice(rep_villages)
        township = town_of[village.id]
        rule = DEFAULT_SLA[urgency]
        first_due, res_due = due_at(created, rule.first_response, cal), due_at(created, rule.resolution, cal)
        if len(phones) > 5 and rng.random() < 0.08:
            phone = rng.choice(phones[-5:])  # a caller who rings again: shows up as a possible duplicate
        else:
            phone = f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}"
        phones.append(phone)
        name = ctx_name(rng)
        row: dict[str, Any] = dict(
            number="",
            channel=rng.choices(
                ["phone", "walk_in", "letter", "online", "referred_in"], weights=[70, 15, 3, 8, 4]
            )[0],
            caller_name_enc=encrypt_field(name),
            caller_name_masked=mask_name(name),
            caller_phone_enc=encrypt_field(phone),
            caller_phone_masked=mask_phone(phone),
            caller_phone_hash=blind_index(phone, PHONE_INDEX),
            location_branch_id=village.id,
            category=category,
            urgency=urgency,
            summary=rng.choice(SUMMARIES[category]),
            description="来电人反映的情况已记录,详见通话录音。",
            sealed=sealed,
            status="new",
            version=1,
            first_responder_id=operator.id,
            assignee_id=None,
            linked_to_id=None,
            escalation_level=0,
            first_response_due_at=first_due,
            resolution_due_at=res_due,
            first_responded_at=None,
            replied_at=None,
            resolved_at=None,
            resolved_on_time=None,
            closed_at=None,
            reopened_at=None,
            callback_at=None,
            callback_reached=None,
            satisfaction=None,
            first_response_escalated=False,
            resolution_escalated=False,
            created_at=created,
            updated_at=created,
            branch_id=ctx.county.id,
            **ancestor_values(ctx.county),
        )
        events = [
            dict(
                at=created,
                kind="create",
                author_id=operator.id,
                author_name=operator.display_name,
                text=f"登记来电:{row['summary']}",
                from_status=None,
                to_status="new",
                referral_to=None,
                data=None,
            )
        ]
        st = _Story(
            rng, row, events, created, now, span=max((min(res_due, now) - created).total_seconds(), 600)
        )

        order = ["new", "assigned", "in_progress", "referred", "resolved", "closed"]
        goal = order.index(state)
        if goal >= 1:
            # Most are routed to the township; sealed ones always to a named person.
            target = township if sealed or (rng.random() < 0.6 and village not in rep_villages) else village
            assignee = people.get(target.id) if sealed or rng.random() < 0.7 else None
            if sealed and assignee is None:
                target, assignee = ctx.townships[0], people.get(ctx.townships[0].id)
            late = rng.random() < 0.15
            st.clock = min(created + (first_due - created) * (1.6 if late else rng.uniform(0.05, 0.5)), now)
            st.add(
                "assign",
                f"分派至{target.name}",
                (operator.id, operator.display_name),
                "assigned",
                data={"branch_id": target.id},
            )
            row.update(
                branch_id=target.id, assignee_id=assignee.id if assignee else None, **ancestor_values(target)
            )
            handler = (assignee.id, assignee.display_name) if assignee else actor(target)
            if goal >= 2:
                st.add("accept", "受理", handler, "in_progress")
                row["first_responded_at"] = st.clock
                if category == "domestic_violence":
                    st.later(0.05)
                    st.add("counselling", "电话安抚情绪,告知人身安全保护令", handler)
                refer = state == "referred" or (goal >= 4 and rng.random() < 0.35)
                if refer:
                    st.later(0.1)
                    to = "police" if category == "domestic_violence" else rng.choice(REFERRALS)
                    st.add("refer", "转介处理", handler, "referred", to=to)
                    if state != "referred":
                        st.later(0.2)
                        st.add("referral_answer", "对方单位已回复处理情况", handler, "in_progress")
                if goal >= 4:
                    if category in ("marriage_family", "property_land") and rng.random() < 0.5:
                        st.later(0.1)
                        st.add("mediation", "组织双方调解", handler)
                    st.later(0.2)
                    st.add("reply", "已电话告知来电人办理结果", handler, data={"method": "phone"})
                    row["replied_at"] = st.clock
                    if rng.random() < 0.12:
                        st.clock = min(res_due + timedelta(hours=rng.uniform(2, 72)), now)
                    else:
                        st.later(0.2)
                    st.add("resolve", "已办结", handler, "resolved")
                    row["resolved_at"] = st.clock
                    row["resolved_on_time"] = st.clock <= res_due
                    if goal == 5 or rng.random() < 0.3:
                        st.later(0.05)
                        reached = rng.random() < 0.9
                        sat = (
                            rng.choices(["satisfied", "basically", "unsatisfied"], weights=[70, 22, 8])[0]
                            if reached
                            else None
                        )
                        st.add(
                            "callback",
                            "回访:"
                            + (
                                {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}.get(
                                    sat, "未联系上"
                                )
                            ),
                            (operator.id, operator.display_name),
                            data={"reached": reached, "satisfaction": sat},
                        )
                        row.update(callback_at=st.clock, callback_reached=reached, satisfaction=sat)
                    if goal == 5:
                        st.later(0.02)
                        st.add("close", "关闭", (admin.id, admin.display_name), "closed")
                        row["closed_at"] = st.clock
        if row["status"] in ("assigned", "in_progress") and rng.random() < 0.3:
            st.later(0.1)
            st.add("note", "已电话联系来电人了解情况", handler)
        tickets.append(row)
        timelines.append(events)

    # Numbers per year in order of intake, and the counters that carry on from them.
    counters: dict[int, int] = {}
    for row in tickets:
        year = china_date(row["created_at"]).year
        counters[year] = counters.get(year, 0) + 1
        row["number"] = f"12338-{year}-{counters[year]:06d}"
    table = Ticket.__table__
    ids = insert_ids(session, table, tickets)
    event_rows = [{**e, "ticket_id": tid} for tid, events in zip(ids, timelines, strict=True) for e in events]
    session.execute(sa.insert(TicketEvent.__table__), event_rows)
    session.execute(sa.insert(TicketCounter.__table__), [{"year": y, "last": n} for y, n in counters.items()])


class _Story:
    """One ticket's history being written: the row, its events and the clock that moves forward."""

    def __init__(
        self,
        rng,
        row: dict[str, Any],
        events: list[dict[str, Any]],
        start: datetime,
        now: datetime,
        span: float,
    ):
        self.rng, self.row, self.events, self.clock, self.now, self.span = rng, row, events, start, now, span

    def later(self, fraction: float) -> datetime:
        step = timedelta(seconds=self.span * fraction * self.rng.uniform(0.3, 1.0))
        self.clock = min(self.clock + step, self.now)
        return self.clock

    def add(self, kind, text, author, to_status=None, **extra) -> None:
        self.events.append(
            dict(
                at=self.clock,
                kind=kind,
                author_id=author[0],
                author_name=author[1],
                text=text,
                from_status=self.row["status"],
                to_status=to_status,
                referral_to=extra.get("to"),
                data=extra.get("data"),
            )
        )
        if to_status:
            self.row["status"] = to_status
        self.row["version"] += 1
        self.row["updated_at"] = self.clock


def ctx_name(rng) -> str:
    from backend.demo import demo_name

    return demo_name(rng)


__all__ = ["load", "Status"]
