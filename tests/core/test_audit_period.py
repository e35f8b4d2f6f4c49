from datetime import timedelta

from backend.core.audit_models import AuditLog
from backend.core.clock import china_day_start, today_in_china


def test_the_audit_list_takes_a_period_of_china_days_both_inclusive(admin, tree, session):
    today = today_in_china()
    yesterday = today - timedelta(days=1)
    # The first minute of yesterday in China (16:01 UTC the day before): inside yesterday, outside today.
    entry = AuditLog(action="login", entity="probe", at=china_day_start(yesterday) + timedelta(minutes=1))
    entry.a1, entry.branch_id = tree.county.id, tree.county.id
    session.add(entry)
    session.flush()

    def total(**period):
        r = admin.get("/api/v1/audit", params={"entity": "probe", **period})
        assert r.status_code == 200, r.text
        return r.json()["total"]

    assert total() == 1
    assert total(**{"from": yesterday.isoformat(), "to": yesterday.isoformat()}) == 1
    assert total(**{"from": today.isoformat()}) == 0
    assert total(to=yesterday.isoformat()) == 1
    assert total(to=(yesterday - timedelta(days=1)).isoformat()) == 0
