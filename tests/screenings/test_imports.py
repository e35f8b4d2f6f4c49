import io
from datetime import date

from openpyxl import Workbook, load_workbook
from sqlmodel import select

from backend.jobs.models import Job
from backend.screenings.models import ScreeningRecord, Woman
from tests.screenings.conftest import idn

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(header: list, rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _upload(client, path: str, data: bytes, **form):
    from backend.core.queue import run_due_now

    answer = client.post(path, files={"file": ("名册.xlsx", data, XLSX)}, data=form)
    run_due_now(client.app.state.db)  # what a task runner does once the job is committed
    return answer


def test_templates_download_with_the_headers_the_import_reads(cadre_a):
    for path, first in (
        ("/api/v1/women/import-template", "姓名*"),
        ("/api/v1/screenings/import-template", "外部编号"),
    ):
        r = cadre_a.get(path)
        assert r.status_code == 200 and r.headers["content-type"] == XLSX
        ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
        assert ws.cell(1, 1).value == first


def test_village_list_imports_as_a_job_with_failed_rows_sheet(login, tree, session):
    rep = login("village_rep", tree.village_a1)
    template = load_workbook(io.BytesIO(rep.get("/api/v1/women/import-template").content))
    ws = template.worksheets[0]
    ws.append(["张桂英", idn(401), "13900001111", None])
    ws.append(["李秀兰", "110105194912310021", None, None])  # wrong check character
    ws.append(["王玉梅", idn(402).lower(), None, tree.village_a1.code])
    ws.append(["赵春梅", idn(403), None, tree.village_b1.code])  # outside her village
    ws.append(["", idn(404), None, None])  # no name
    ws.append(["张桂英", idn(401), None, None])  # already registered
    buf = io.BytesIO()
    template.save(buf)
    r = _upload(rep, "/api/v1/women/imports", buf.getvalue())
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.headers["location"] == f"/api/v1/jobs/{job_id}"
    job = rep.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "done", job
    assert job["total_rows"] == 6 and job["rows_done"] == 6 and job["rows_failed"] == 4
    assert job["result"]["created"] == 2
    names = session.exec(select(Woman.name).where(Woman.branch_id == tree.village_a1.id)).all()
    assert sorted(names) == ["张桂英", "王玉梅"]
    sheet = rep.get(job["failed_rows_url"])
    assert sheet.status_code == 200 and sheet.headers["content-type"] == XLSX
    rows = list(load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("行号", "未导入原因", "姓名*")
    reasons = {row[0]: row[1] for row in rows[1:]}
    assert sorted(reasons) == [3, 5, 6, 7]
    assert (
        reasons[3].startswith("身份证号:")
        and "校验位" in reasons[3]
        and "不存在或不在" in reasons[5]
        and "已登记" in reasons[7]
    )
    # Another village cannot see the job.
    assert login("village_rep", tree.village_a2).get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert login("cadre", tree.town_b).get(f"/api/v1/jobs/{job_id}/failed-rows").status_code == 404


def test_results_import_uses_chinese_labels_and_is_idempotent(cadre_a, tree, session):
    header = [
        "外部编号",
        "姓名",
        "身份证号",
        "联系电话",
        "村(社区)组织代码",
        "筛查类型",
        "筛查日期",
        "筛查机构",
        "检查方法",
        "结果",
        "TBS 分级",
        "BI-RADS",
        "已签知情同意",
    ]
    today = date.today()
    rows = [
        [
            "YY-1",
            "钱秀英",
            idn(501),
            "13700000001",
            tree.village_a1.code,
            "宫颈癌",
            today,
            "县医院",
            "细胞学(TBS)",
            "异常",
            "HSIL",
            None,
            "是",
        ],
        [
            "YY-2",
            "孙玉兰",
            idn(502),
            None,
            tree.village_a2.code,
            "乳腺癌",
            today.isoformat(),
            "县医院",
            "乳腺超声",
            "未见异常",
            None,
            2,
            "是",
        ],
        [
            "YY-3",
            "周凤英",
            idn(503),
            None,
            tree.village_a2.code,
            "乳腺癌",
            today.isoformat(),
            "县医院",
            "乳腺超声",
            "未见异常",
            None,
            5,
            "是",
        ],  # contradiction
        [
            "YY-4",
            "吴丽华",
            float(idn(504)[:17] + "0"),
            None,
            tree.village_a2.code,
            "宫颈癌",
            today,
            "县医院",
            None,
            "未见异常",
            None,
            None,
            "否",
        ],  # number mangled by Excel
    ]
    data = _xlsx(header, rows)
    first = _upload(cadre_a, "/api/v1/screenings/imports", data)
    assert first.status_code == 202
    job = cadre_a.get(f"/api/v1/jobs/{first.json()['id']}").json()
    assert job["status"] == "done" and job["rows_failed"] == 2 and job["result"]["created"] == 2
    rec = session.exec(select(ScreeningRecord).where(ScreeningRecord.external_id == "YY-1")).one()
    assert rec.source == "import" and rec.tbs == "HSIL" and rec.consent is True
    assert cadre_a.get(f"/api/v1/screenings/{rec.id}").json()["follow_up_id"]
    second = _upload(cadre_a, "/api/v1/screenings/imports", data)
    job2 = cadre_a.get(f"/api/v1/jobs/{second.json()['id']}").json()
    assert job2["result"]["unchanged"] == 2 and job2["rows_failed"] == 2
    assert len(session.exec(select(ScreeningRecord.id).where(ScreeningRecord.source == "import")).all()) == 2
    failed = load_workbook(io.BytesIO(cadre_a.get(job2["failed_rows_url"]).content)).worksheets[0]
    reasons = [row[1] for row in failed.iter_rows(min_row=2, values_only=True)]
    assert "BI-RADS 为 5" in reasons[0] and "文本格式" in reasons[1]


def test_bad_uploads_are_refused_before_a_job(cadre_a, session):
    r = cadre_a.post(
        "/api/v1/women/imports", files={"file": ("a.xls", b"\xd0\xcf\x11\xe0old", "application/x")}
    )
    assert r.status_code == 415
    missing = _upload(cadre_a, "/api/v1/women/imports", _xlsx(["名字"], [["x"]]))
    assert missing.status_code == 400 and "缺少列:姓名、身份证号" in missing.json()["detail"]
    broken = _upload(cadre_a, "/api/v1/women/imports", b"PK\x03\x04not really a workbook")
    assert broken.status_code in (400, 415)
    assert cadre_a.get("/api/v1/jobs").json()["total"] == 0


def test_a_job_that_fails_says_why(cadre_a, db, session, tree):
    from backend.jobs import service as jobs
    from tests.conftest import principal_for

    principal = principal_for(cadre_a.account, tree.town_a)
    job = jobs.create_job(session, principal, "screenings.import_women", payload=_xlsx(["名字"], [["x"]]))
    session.commit()
    jobs.run_job(db, job.id)
    body = cadre_a.get(f"/api/v1/jobs/{job.id}").json()
    assert body["status"] == "failed" and "缺少列" in body["error"] and body["finished_at"]
    assert cadre_a.get(f"/api/v1/jobs/{job.id}/failed-rows").status_code == 404


def test_job_list_and_permissions(cadre_a, login, tree):
    _upload(cadre_a, "/api/v1/women/imports", _xlsx(["姓名", "身份证号"], [["甲", idn(601)]]))
    assert cadre_a.get("/api/v1/jobs?mine=true").json()["total"] == 1
    assert login("leader", tree.county).get("/api/v1/jobs").status_code == 403
    assert login("county_admin", tree.county).get("/api/v1/jobs").json()["total"] == 1
    assert login("cadre", tree.town_b).get("/api/v1/jobs").json()["total"] == 0
    assert (
        login("leader", tree.county)
        .post("/api/v1/women/imports", files={"file": ("a.xlsx", b"PK", XLSX)})
        .status_code
        == 403
    )


def test_job_row_is_in_the_uploaders_branch(cadre_a, session, tree):
    r = _upload(cadre_a, "/api/v1/women/imports", _xlsx(["姓名", "身份证号"], [["乙", idn(602)]]))
    job = session.get(Job, r.json()["id"])
    session.refresh(job)
    assert job.branch_id == tree.town_a.id and job.payload is None


def test_a_chunk_that_meets_a_conflict_is_redone_row_by_row(cadre_a, tree, session, monkeypatch):
    import sqlalchemy as sa

    from backend.screenings import bulk

    def clash(*_args, **_kwargs):
        raise sa.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(bulk, "import_women_chunk", clash)
    data = _xlsx(
        ["姓名", "身份证号", "村(社区)组织代码"],
        [["慢一", idn(801), tree.village_a1.code], ["慢二", "123", tree.village_a1.code]],
    )
    job = cadre_a.get(f"/api/v1/jobs/{_upload(cadre_a, '/api/v1/women/imports', data).json()['id']}").json()
    assert job["status"] == "done" and job["result"] == {"rows": 2, "created": 1, "error": 1}
    assert session.exec(select(Woman.branch_id).where(Woman.name == "慢一")).one() == tree.village_a1.id


def test_bulk_import_writes_the_audit_trail(cadre_a, tree, session):
    from backend.core.audit_models import AuditLog

    data = _xlsx(["姓名", "身份证号", "联系电话"], [["审计", idn(802), "13912340000"]])
    _upload(cadre_a, "/api/v1/women/imports", data)
    woman = session.exec(select(Woman).where(Woman.name == "审计")).one()
    entry = session.exec(
        select(AuditLog).where(AuditLog.entity == "woman", AuditLog.entity_id == str(woman.id))
    ).one()
    assert entry.action == "create" and entry.actor == f"user:{cadre_a.account.id}"
    assert entry.after["phone_masked"] == "139****0000" and "13912340000" not in str(entry.after)
    assert entry.a2 == tree.town_a.id
