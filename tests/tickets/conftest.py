import pytest

DV_CALL = {
    "channel": "phone",
    "caller_name": "李秀英",
    "caller_phone": "13912345678",
    "category": "domestic_violence",
    "urgency": "critical",
    "summary": "丈夫酒后殴打,人在邻居家",
    "description": "来电人称丈夫今晚酒后动手,手臂受伤,现躲在邻居家,担心回家再被打。",
}


@pytest.fixture
def operator(login, tree):
    return login("hotline_operator", tree.county, display_name="陈接线员")


@pytest.fixture
def new_ticket(tree):
    """`new_ticket(client, **fields)` → the created ticket's JSON (asserting 201)."""

    def _create(client, **fields):
        body = {**DV_CALL, "branch_id": tree.village_a1.id, **fields}
        r = client.post("/api/v1/tickets", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    return _create


def step(client, ticket_id, action, body=None, **kwargs):
    return client.post(
        f"/api/v1/tickets/{ticket_id}/actions/{action}", json=body if body is not None else {}, **kwargs
    )


def ok(client, ticket_id, action, body=None, **kwargs):
    r = step(client, ticket_id, action, body, **kwargs)
    assert r.status_code == 200, r.text
    return r.json()
