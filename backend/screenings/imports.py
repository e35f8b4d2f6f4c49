"""Excel imports as jobs: the village list of women and the hospitals' results. Templates are downloadable."""

from typing import Any

from pydantic import Field

from backend.branches.models import Branch
from backend.core.db import Database
from backend.core.errors import AppError
from backend.core.scope import Principal, get_scoped
from backend.jobs import imports as sheets
from backend.jobs.models import Job
from backend.jobs.service import JobOutcome, job_handler
from backend.screenings import bulk, service
from backend.screenings.models import ScreeningSource
from backend.screenings.schemas import BatchRow, WomanCreate

MAX_UPLOAD_BYTES = sheets.MAX_UPLOAD_BYTES
CHUNK = sheets.CHUNK
WOMEN_JOB = "screenings.import_women"
RESULTS_JOB = "screenings.import_results"

# (key, header, dictionary, required, text column, hint)
WOMEN_COLUMNS = [
    ("name", "姓名", None, True, True, "必填"),
    ("id_number", "身份证号", None, True, True, "必填,18 位,请设为文本格式"),
    ("phone", "联系电话", None, False, True, ""),
    ("branch_code", "村(社区)组织代码", None, False, True, "不填则登记到上传人所在组织"),
]
RESULT_COLUMNS = [
    ("external_id", "外部编号", None, False, True, "医院的检查单号;再次导入同一编号会更新而不是重复登记"),
    ("name", "姓名", None, True, True, "必填"),
    ("id_number", "身份证号", None, True, True, "必填,18 位,请设为文本格式"),
    ("phone", "联系电话", None, False, True, ""),
    ("branch_code", "村(社区)组织代码", None, False, True, "新登记的妇女必填"),
    ("kind", "筛查类型", "screening_kind", True, False, "宫颈癌 或 乳腺癌"),
    ("screened_on", "筛查日期", None, True, False, "如 2026-05-08"),
    ("institution", "筛查机构", None, False, False, ""),
    ("method", "检查方法", "screening_method", False, False, "见字典"),
    ("result", "结果", "screening_result", True, False, "未见异常 / 异常 / 可疑阳性"),
    ("tbs", "TBS 分级", "tbs", False, False, "仅宫颈细胞学:NILM ASC-US ASC-H LSIL HSIL SCC AGC"),
    ("birads", "BI-RADS", None, False, False, "仅乳腺影像:0–6"),
    ("consent", "已签知情同意", None, False, False, "是 / 否"),
]
TEMPLATES = {"women": ("两癌筛查妇女名册", WOMEN_COLUMNS), "results": ("两癌筛查结果", RESULT_COLUMNS)}


def template_bytes(which: str) -> bytes:
    title, columns = TEMPLATES[which]
    return sheets.template_bytes(title, columns)


check_upload = sheets.check_upload


def check_header(data: bytes, which: str) -> None:
    """Refuse a file without the template's required columns before any job is made."""
    sheets.check_header(data, TEMPLATES[which][1])


_text, _day, _coded, _consent = sheets.text, sheets.day, sheets.coded, sheets.yes


class ImportRow(BatchRow):
    external_id: str | None = Field(default=None, max_length=64)  # type: ignore[assignment]


def _run(db: Database, job: Job, principal: Principal, columns: list[tuple], convert, bulk_chunk, one_row):
    return sheets.run_import(
        db,
        job,
        principal,
        columns,
        convert,
        bulk_chunk,
        one_row,
        state=bulk.ImportState(),
        chunk_size=CHUNK,
    )


def _woman_row(raw: dict[str, Any], branches: sheets.BranchCodes) -> dict[str, Any]:
    return {
        "name": _text(raw.get("name")),
        "id_number": _text(raw.get("id_number")),
        "phone": _text(raw.get("phone")),
        "branch_id": branches.id_for(_text(raw.get("branch_code"))),
    }


def _result_row(raw: dict[str, Any], branches: sheets.BranchCodes) -> dict[str, Any]:
    return {
        "external_id": _text(raw.get("external_id")),
        "name": _text(raw.get("name")),
        "id_number": _text(raw.get("id_number")),
        "phone": _text(raw.get("phone")),
        "branch_id": branches.id_for(_text(raw.get("branch_code"))),
        "kind": _coded(raw.get("kind"), "screening_kind"),
        "screened_on": _day(raw.get("screened_on")),
        "institution": _text(raw.get("institution")),
        "method": _coded(raw.get("method"), "screening_method"),
        "result": _coded(raw.get("result"), "screening_result"),
        "tbs": _coded(raw.get("tbs"), "tbs"),
        "birads": _text(raw.get("birads")),
        "consent": _consent(raw.get("consent")),
    }


def _one_woman(session, principal, row: dict[str, Any], state) -> tuple[str, str | None]:
    from pydantic import ValidationError

    try:
        data = WomanCreate.model_validate(row)
        with session.begin_nested():
            branch = get_scoped(session, Branch, row["branch_id"], principal)
            service.register_woman(session, principal, data, branch)
    except ValidationError as exc:
        return "error", service.first_error(exc)[1]
    except AppError as exc:
        return "error", exc.detail
    return "created", None


def _one_result(session, principal, row: dict[str, Any], state) -> tuple[str, str | None]:
    item = service.apply_row(
        session,
        principal,
        row,
        sender=_sender(principal),
        source=ScreeningSource.import_,
        cache=state.cache,
        row_model=ImportRow,
    )
    return item["outcome"], item.get("error")


def _sender(principal: Principal) -> str:
    # Re-importing the same file from the same branch updates instead of duplicating.
    return f"import:branch:{principal.branch_id}"


def _women_chunk(session, principal, prepared, default_branch, state):
    return bulk.import_women_chunk(session, principal, prepared, default_branch, state, WomanCreate)


def _results_chunk(session, principal, prepared, default_branch, state):
    return bulk.import_results_chunk(
        session, principal, prepared, sender=_sender(principal), state=state, row_model=ImportRow
    )


@job_handler(WOMEN_JOB)
def import_women(db: Database, job: Job, principal: Principal) -> JobOutcome:
    return _run(db, job, principal, WOMEN_COLUMNS, _woman_row, _women_chunk, _one_woman)


@job_handler(RESULTS_JOB)
def import_results(db: Database, job: Job, principal: Principal) -> JobOutcome:
    return _run(db, job, principal, RESULT_COLUMNS, _result_row, _results_chunk, _one_result)


__all__ = ["import_results", "import_women", "template_bytes"]
