"""No input produces a 500: every route gets malformed ids, parameters and bodies."""

import pytest

from backend.core.routes import api_routes
from backend.main import create_app

BODIES = [None, {}, [], "text", {"name": "x" * 5000}, {"id": -1, "branch_id": 10**30, "limit": "many"}]
QUERIES = [
    {},
    {"limit": "0"},
    {"offset": "-1"},
    {"sort": "-nope"},
    {"q": "%' OR 1=1 --"},
    {"format": "pdf"},
    {"branch_id": "x", "under": "99999999999", "from": "yesterday", "status": "???"},
]
IDS = ["1", "abc", "99999999999999999999"]


@pytest.mark.parametrize("role", ["county_admin", "village_rep"])
def test_malformed_requests_never_answer_500(db, tree, login, role):
    app = create_app(db)
    api = login(role, tree.county if role == "county_admin" else tree.village_a1)
    failures, count = [], 0
    for info in api_routes(app):
        if info.path == "/{full_path:path}":
            continue
        for method in info.methods - {"HEAD"}:
            for raw_id in IDS if info.route.param_convertors else IDS[:1]:
                path = info.path
                for name in info.route.param_convertors:
                    path = path.replace("{" + name + "}", raw_id)
                for query in QUERIES if method == "GET" else QUERIES[:2]:
                    r = api.client.request(method, path, params=query)
                    count += 1
                    if r.status_code >= 500:
                        failures.append((method, path, query, None, r.status_code))
                if method in {"POST", "PATCH", "PUT"}:
                    for body in BODIES:
                        r = api.client.request(method, path, json=body)
                        if r.status_code >= 500:
                            failures.append((method, path, None, body, r.status_code))
    assert count > 200 and failures == []
