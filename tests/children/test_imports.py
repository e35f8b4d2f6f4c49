import io

from openpyxl import load_workbook
from sqlmodel import select

from backend.children.models import Child
from backend.core.audit_models import AuditLog
from tests.children.conftest import child_idn

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client, data: bytes, **form):
    from backend.core.queue import run_due_now

    answer = client.post("/api/v1/children/imports", files={"file": ("名册.xlsx", data, XLSX)}, data=form)
    run_due_now(client.app.state.db)  # what a task runner does once the job is committed
    return answer


def test_a_village_list_imports_as_a_job_with_a_failed_rows_sheet(rep_a1, tree, session, register, login):
    register(50, branch=tree.village_b1, client=login("cadre", tree.town_b))
    template = rep_a1.get("/api/v1/children/import-template")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(template.content))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:3] == ["姓名*", "身份证号*", "类别*"]
    header = [c.value for c in ws[1]]

    def row(**cells):
        return [cells.get(h.rstrip("*")) for h in header]

    ws.append(
        row(
            姓名="王小花",
            身份证号=child_idn(51),
            类别="留守儿童(双亲外出)",
            学校="甲一村小学",
            监护人关系="祖父母/外祖父母",
            监护人电话="13911112222",
            残疾="是",
        )
    )
    ws.append(
        row(
            姓名="李小军",
            身份证号=child_idn(52).lower(),
            类别="hardship",
            父亲务工地="省外",
            母亲务工地="县内",
        )
    )
    ws.append(
        row(
            姓名="错号", 身份证号=child_idn(53)[:17] + ("0" if child_idn(53)[17] != "0" else "1"), 类别="孤儿"
        )
    )
    ws.append(row(姓名="无类别", 身份证号=child_idn(54), 类别="不知道"))
    ws.append(row(姓名="王小花", 身份证号=child_idn(51), 类别="孤儿"))  # twice in the file
    ws.append(row(姓名="别村的", 身份证号=child_idn(50), 类别="孤儿"))  # registered in another township
    ws.append(
        row(姓名="越权", 身份证号=child_idn(55), 类别="孤儿", **{"村(社区)组织代码": tree.village_b1.code})
    )
    buf = io.BytesIO()
    wb.save(buf)
    r = _upload(rep_a1, buf.getvalue())
    assert r.status_code == 202, r.text
    job = rep_a1.get(r.headers["location"].removeprefix("http://testserver")).json()
    assert job["status"] == "done", job
    assert job["total_rows"] == 7 and job["rows_done"] == 7 and job["rows_failed"] == 5
    assert job["result"]["created"] == 2

    children = {c.name: c for c in session.exec(select(Child).where(Child.branch_id == tree.village_a1.id))}
    assert sorted(children) == ["李小军", "王小花"]
    flower = children["王小花"]
    assert flower.category == "left_behind_both_parents" and flower.disability is True
    assert flower.guardian_relation == "grandparent" and flower.guardian_phone_masked == "139****2222"
    assert children["李小军"].father_work_place == "out_of_province" and children["李小军"].sex == "male"
    audited = session.exec(
        select(AuditLog.entity_id).where(AuditLog.entity == "child", AuditLog.action == "create")
    ).all()
    assert str(flower.id) in audited

    sheet = rep_a1.get(job["failed_rows_url"])
    rows = list(load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("行号", "未导入原因", "姓名*")
    reasons = {r[0]: r[1] for r in rows[1:]}
    assert sorted(reasons) == [4, 5, 6, 7, 8]
    assert reasons[4].startswith("身份证号:") and "校验位" in reasons[4]
    assert reasons[5].startswith("类别:")
    assert "重复" in reasons[6] and "其他单位" in reasons[7]
    assert "不存在或不在" in reasons[8]
    assert login("village_rep", tree.village_a2).get(f"/api/v1/jobs/{job['id']}").status_code == 404

    # The same list sent again: the two children already on it are skipped, not failed, and nothing is doubled.
    again = _upload(rep_a1, buf.getvalue())
    job = rep_a1.get(again.headers["location"].removeprefix("http://testserver")).json()
    assert job["status"] == "done" and job["rows_failed"] == 5, job
    assert job["result"].get("created", 0) == 0 and job["result"]["skipped"] == 2
    assert len(session.exec(select(Child).where(Child.branch_id == tree.village_a1.id)).all()) == 2


def test_a_file_without_the_required_columns_is_refused_before_any_job(rep_a1):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["姓名", "身份证号"])
    buf = io.BytesIO()
    wb.save(buf)
    r = _upload(rep_a1, buf.getvalue())
    assert r.status_code == 400 and "类别" in r.json()["detail"]
    old = rep_a1.post("/api/v1/children/imports", files={"file": ("a.xls", b"\xd0\xcf\x11\xe0old", XLSX)})
    assert old.status_code == 415
