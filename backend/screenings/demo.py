"""Demo screening programme: a plan per township, ~3,000 women, ~4,500 results, follow-ups in every state, aid."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from backend.core.db import insert_ids
from backend.core.scope import ANCESTOR_COLUMNS
from backend.screenings.idcard import make_id_number
from backend.screenings.models import (
    AidApplication,
    FollowUp,
    FollowUpEvent,
    ScreeningPlan,
    ScreeningRecord,
    Woman,
)
from backend.screenings.service import pii_columns

WOMEN_PER_VILLAGE = (4, 12)
INSTITUTIONS = ["桃源县妇幼保健院", "桃源县人民医院", "常德市第一人民医院", "乡镇卫生院"]
# Where abnormal results stand today, weighted roughly as a county sees it.
STATES = {
    "pending_notice": 8,
    "notified": 14,
    "rechecked": 10,
    "diagnosed": 10,
    "treated": 8,
    "closed": 40,
    "lost": 10,
}
ORDER = ["pending_notice", "notified", "rechecked", "diagnosed", "treated", "closed"]


def _at(day, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour - 8 if hour >= 8 else 0), tzinfo=UTC)


def load(session: Session, ctx: Any) -> None:
    from backend.demo import demo_name

    rng, today = ctx.rng, ctx.today
    year = today.year
    place = {b.id: {"branch_id": b.id, **{a: getattr(b, a) for a in ANCESTOR_COLUMNS}} for b in ctx.villages}
    now = datetime.now(UTC)

    women, seq = [], 0
    for village in ctx.villages:
        for _ in range(rng.randint(*WOMEN_PER_VILLAGE)):
            seq += 1
            born = today.replace(year=today.year - rng.randint(35, 64), month=1, day=1) + timedelta(
                days=rng.randrange(365)
            )
            number = make_id_number("430725", born, (seq * 2) % 1000)
            phone = f"13{rng.randrange(0, 10)}{rng.randrange(10**7, 10**8)}" if rng.random() < 0.85 else None
            hardship = rng.choices(["none", "dibao", "tekun"], weights=[88, 10, 2])[0]
            women.append(
                {
                    "name": demo_name(rng),
                    "birth_date": born,
                    "hardship_status": hardship,
                    "hardship_verified_by": "桃源县民政局" if hardship != "none" else None,
                    "hardship_verified_at": now if hardship != "none" else None,
                    "deleted_at": None,
                    "created_at": now,
                    "updated_at": now,
                    **place[village.id],
                    **pii_columns(number, phone),
                }
            )
    # Same-sequence numbers on the same birthday would collide; the demo keeps the first.
    seen: set[str] = set()
    women = [w for w in women if not (w["id_number_hash"] in seen or seen.add(w["id_number_hash"]))]
    for w, new_id in zip(women, insert_ids(session, Woman, women), strict=True):
        w["id"] = new_id

    plans = []
    for town in ctx.townships:
        count = sum(1 for w in women if w["a" + str(town.depth)] == town.id)
        plans.append(
            {
                "year": year,
                "name": f"{year} 年{town.name}两癌筛查",
                "branch_id": town.id,
                **{a: getattr(town, a) for a in ANCESTOR_COLUMNS},
                "target_count": max(1, int(count * rng.uniform(0.85, 1.25))),
                "budget": Decimal(count * 150),
                "deleted_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    plan_ids = dict(
        zip([p["branch_id"] for p in plans], insert_ids(session, ScreeningPlan, plans), strict=True)
    )
    town_depth = ctx.townships[0].depth if ctx.townships else 2

    records = []
    for w in women:
        kinds = [k for k, p in (("cervical", 0.8), ("breast", 0.85)) if rng.random() < p]
        if rng.random() < 0.1:
            kinds = []
        for kind in kinds:
            day = today - timedelta(days=rng.randrange(1, min(300, today.timetuple().tm_yday + 200)))
            if day.year != year:
                day = today - timedelta(days=rng.randrange(1, max(2, today.timetuple().tm_yday)))
            roll = rng.random()
            result = "normal" if roll > 0.1 else ("abnormal" if roll > 0.04 else "suspected_positive")
            if kind == "cervical":
                method = rng.choice(["cytology", "hpv", "cytology"])
                tbs = (
                    (rng.choice(["LSIL", "HSIL", "ASC-H", "ASC-US"]) if result != "normal" else "NILM")
                    if method == "cytology"
                    else None
                )
                birads = None
            else:
                method, tbs = rng.choice(["ultrasound", "mammography", "clinical_exam"]), None
                birads = (
                    (rng.choice([3, 4, 4, 5]) if result != "normal" else rng.choice([1, 2]))
                    if method != "clinical_exam"
                    else None
                )
            records.append(
                {
                    "woman_id": w["id"],
                    "plan_id": plan_ids.get(w[f"a{town_depth}"]),
                    "kind": kind,
                    "screened_on": day,
                    "institution": rng.choice(INSTITUTIONS),
                    "method": method,
                    "result": result,
                    "tbs": tbs,
                    "birads": birads,
                    "consent": True,
                    "source": rng.choice(["manual", "import", "api"]),
                    "sender": None,
                    "external_id": None,
                    "deleted_at": None,
                    "created_at": _at(day, 15),
                    "updated_at": _at(day, 15),
                    **{k: w[k] for k in ("branch_id", *ANCESTOR_COLUMNS)},
                }
            )
    for r, new_id in zip(records, insert_ids(session, ScreeningRecord, records), strict=True):
        r["id"] = new_id

    follow_ups, steps = [], []
    abnormal = [r for r in records if r["result"] != "normal"]
    states = list(STATES)
    for i, r in enumerate(abnormal):
        # Every state appears at least once, then by weight.
        state = states[i] if i < len(states) else rng.choices(states, weights=list(STATES.values()))[0]
        day = r["screened_on"]
        fu = {
            "record_id": r["id"],
            "woman_id": r["woman_id"],
            "kind": r["kind"],
            "status": state,
            "notice_due_on": day + timedelta(days=1),
            "visit_count": 0,
            "created_at": r["created_at"],
            "updated_at": r["created_at"],
            **{k: r[k] for k in ("branch_id", *ANCESTOR_COLUMNS)},
        }
        reached = ORDER.index(state) if state in ORDER else rng.randrange(0, 3)
        events = []
        if reached >= 1:
            fu.update(
                notified_at=_at(day + timedelta(days=rng.choice([0, 0, 1, 3]))),
                notice_method=rng.choice(["in_person", "in_person", "phone"]),
                notified_by=demo_name(rng),
            )
            fu["recheck_due_on"] = fu["notified_at"].date() + timedelta(days=30)
            events.append(("notify", fu["notified_at"], {"method": fu["notice_method"]}))
        if reached >= 2:
            fu.update(
                rechecked_on=day + timedelta(days=rng.randint(7, 40)),
                recheck_institution=rng.choice(INSTITUTIONS[1:3]),
                recheck_result="阴道镜活检" if r["kind"] == "cervical" else "乳腺穿刺活检",
            )
            events.append(("recheck", _at(fu["rechecked_on"]), None))
        if reached >= 3:
            fu.update(
                diagnosis=rng.choices(["benign", "precancer", "cancer"], weights=[55, 30, 15])[0],
                diagnosed_on=fu["rechecked_on"] + timedelta(days=rng.randint(3, 14)),
            )
            events.append(("diagnose", _at(fu["diagnosed_on"]), {"diagnosis": fu["diagnosis"]}))
        if reached >= 4 and not (state == "closed" and fu["diagnosis"] == "benign"):
            fu.update(
                treated_on=fu["diagnosed_on"] + timedelta(days=rng.randint(5, 30)),
                treatment="手术治疗" if fu["diagnosis"] == "cancer" else "LEEP 锥切",
            )
            events.append(("treat", _at(fu["treated_on"]), None))
        if state == "closed":
            fu["closed_at"] = _at(
                min(today, (fu.get("treated_on") or fu["diagnosed_on"]) + timedelta(days=10))
            )
            events.append(("close", fu["closed_at"], None))
        if state == "lost":
            fu.update(
                lost_at=_at(day + timedelta(days=45)),
                lost_reason=rng.choice(["外出务工,联系不上", "拒绝复查", "已搬离本地"]),
            )
            events.append(("lose", fu["lost_at"], {"reason": fu["lost_reason"]}))
        if rng.random() < 0.3 and state not in ("closed", "lost"):
            fu.update(visit_count=1, last_visit_at=_at(today - timedelta(days=rng.randint(1, 20))))
            events.append(("visit", fu["last_visit_at"], {"reached": True}))
        follow_ups.append(fu)
        steps.append(events)
    cols = {c.name for c in FollowUp.__table__.c} - {"id"}
    follow_ups = [{c: fu.get(c) for c in cols} for fu in follow_ups]
    for fu, new_id in zip(follow_ups, insert_ids(session, FollowUp, follow_ups), strict=True):
        fu["id"] = new_id
    events = [
        {
            "follow_up_id": fu["id"],
            "action": action,
            "at": at,
            "actor": "system:demo",
            "actor_name": "演示数据",
            "note": None,
            "data": data,
        }
        for fu, fu_events in zip(follow_ups, steps, strict=True)
        for action, at, data in fu_events
    ]
    if events:
        session.execute(sa.insert(FollowUpEvent), events)

    aid_states = ["submitted", "verified", "approved", "paid", "paid", "rejected"]
    cancers = [fu for fu in follow_ups if fu["diagnosis"] == "cancer" and fu["status"] != "lost"]
    aid = []
    for i, fu in enumerate(cancers):
        status = aid_states[i % len(aid_states)]
        row = {
            "woman_id": fu["woman_id"],
            "follow_up_id": fu["id"],
            "diagnosis": "cancer",
            "amount": Decimal(rng.choice([5000, 8000, 10000])),
            "documents": ["诊断证明", "低保证复印件"],
            "note": None,
            "status": status,
            "submitted_by": "乡镇妇联",
            "deleted_at": None,
            "created_at": now,
            "updated_at": now,
            **{k: fu[k] for k in ("branch_id", *ANCESTOR_COLUMNS)},
        }
        if status != "submitted":
            row.update(
                verified_hardship=rng.choice(["dibao", "tekun"]) if status != "rejected" else "none",
                verified_by="桃源县民政局",
                verified_at=now,
            )
        if status in ("approved", "paid"):
            row.update(approved_by="周桂兰", approved_at=now)
        if status == "paid":
            row.update(paid_by="周桂兰", paid_at=now, payment_reference=f"JZ{year}{i:04d}")
        if status == "rejected":
            row.update(rejected_by="周桂兰", rejected_at=now, rejected_reason="民政核实不属于低保或特困")
        aid.append(row)
    acols = {c.name for c in AidApplication.__table__.c} - {"id"}
    insert_ids(session, AidApplication, [{c: a.get(c) for c in acols} for a in aid])
