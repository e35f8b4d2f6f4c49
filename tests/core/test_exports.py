"""Excel exports of any list survive whatever a client typed (found by schemathesis: a 500 on ?format=xlsx)."""

import io

from openpyxl import load_workbook

from tests.conftest import make_user


def test_control_characters_typed_into_a_field_do_not_break_the_excel_export(admin, tree, session):
    user = make_user(session, tree.village_a1, "village_rep", username="bell.user")
    assert admin.patch(f"/api/v1/users/{user.id}", json={"display_name": "王\x07芳\x1b"}).status_code == 200
    r = admin.get("/api/v1/users", params={"format": "xlsx", "q": "bell.user"})
    assert r.status_code == 200, r.text
    cells = [c.value for row in load_workbook(io.BytesIO(r.content)).active.iter_rows() for c in row]
    assert "王芳" in cells
