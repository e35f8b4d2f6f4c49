"""Excel imports as jobs: the village list of women and the hospitals' results. Templates are downloadable."""

import io
import zipfile
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import Field

from backend.branches.models import Branch
from backend.core.db import Database
from backend.core.errors import AppError, BadRequest, PayloadTooLarge, UnsupportedMedia
from backend.core.paging import Column
from backend.core.scope import Principal, get_scoped, scoped
from backend.jobs.models import Job
from backend.jobs.service import JobOutcome, job_handler, report_progress
from backend.meta.dictionaries import DICTIONARIES
from backend.screenings import bulk, service
from backend.screenings.models import ScreeningSource
from backend.screenings.schemas import BatchRow, WomanCreate

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # under the app-wide body limit
MAX_ROWS = 50_000
CHUNK = 500
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
    from openpyxl import Workbook
    from openpyxl.styles import Font

    title, columns = TEMPLATES[which]
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append([header + ("*" if required else "") for _, header, _, required, _, _ in columns])
    for i, (_, _, _, required, text, _) in enumerate(columns, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = 22
        ws.cell(row=1, column=i).font = Font(bold=True, color="C00000" if required else "000000")
        if text:
            # Text columns, so Excel keeps ID numbers' 18 digits and phones' leading zeros.
            ws.column_dimensions[letter].number_format = "@"
    guide = wb.create_sheet("填写说明")
    guide.append(["列", "说明", "可填的值"])
    for _, header, dictionary, _, _, hint in columns:
        values = "、".join(DICTIONARIES[dictionary].values()) if dictionary else ""
        guide.append([header, hint, values])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def check_upload(data: bytes, filename: str | None) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"文件不能超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    if not data:
        raise BadRequest("上传的文件是空的")
    if not zipfile.is_zipfile(io.BytesIO(data)) or (filename and not filename.lower().endswith(".xlsx")):
        raise UnsupportedMedia("请上传 .xlsx 格式的 Excel 文件(可先下载模板);.xls 请另存为 .xlsx")


def check_header(data: bytes, which: str) -> None:
    """Refuse a file without the template's required columns before any job is made."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        header = next(wb.worksheets[0].iter_rows(max_row=1, values_only=True), None)
        wb.close()
    except Exception:
        raise BadRequest("文件无法读取,请确认是 Excel 的 .xlsx 文件") from None
    columns = TEMPLATES[which][1]
    present = {str(h or "").strip().rstrip("*").strip() for h in header or ()}
    missing = [h for _, h, _, required, *_ in columns if required and h not in present]
    if missing:
        raise BadRequest(f"表格缺少列:{'、'.join(missing)}(请使用模板)")


def _reverse(dictionary: str) -> dict[str, str]:
    mapping = {v: k for k, v in DICTIONARIES[dictionary].items()}
    mapping.update({k.lower(): k for k in DICTIONARIES[dictionary]})
    return mapping


def read_rows(
    data: bytes, columns: list[tuple]
) -> tuple[list[str], list[tuple[int, dict[str, Any], list[Any]]]]:
    """Rows of the first sheet keyed by our field names (headers matched by their Chinese text)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise BadRequest("文件无法读取,请确认是 Excel 的 .xlsx 文件") from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise BadRequest("表格是空的:第一行应为列名(请使用模板)")
    by_header = {h: key for key, h, *_ in columns}
    keys = [by_header.get(str(h or "").strip().rstrip("*").strip()) for h in header]
    missing = [h for key, h, _, required, *_ in columns if required and key not in keys]
    if missing:
        raise BadRequest(f"表格缺少列:{'、'.join(missing)}(请使用模板)")
    out = []
    for n, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        out.append((n, {k: v for k, v in zip(keys, values, strict=False) if k}, list(values)))
        if len(out) > MAX_ROWS:
            raise BadRequest(f"一次最多导入 {MAX_ROWS} 行,请分成几个文件")
    wb.close()
    return [str(h or "") for h in header], out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        raise ValueError("数字被 Excel 改成了科学计数法,请把这一列设为文本格式后重新填写")
    text = str(value).strip()
    return text or None


def _day(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date) or value is None:
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def _coded(value: Any, dictionary: str) -> Any:
    text = _text(value)
    if text is None:
        return None
    return _reverse(dictionary).get(text, _reverse(dictionary).get(text.lower(), text))


def _consent(value: Any) -> bool:
    text = (_text(value) or "").lower()
    return text in {"是", "已签", "有", "y", "yes", "true", "1"}


class ImportRow(BatchRow):
    external_id: str | None = Field(default=None, max_length=64)  # type: ignore[assignment]


class _Branches:
    """Organisation codes in the file, resolved once and only within the uploader's scope."""

    def __init__(self, session, principal: Principal, default_id: int):
        self.session, self.principal, self.default_id = session, principal, default_id
        self.by_code: dict[str, int | None] = {}

    def id_for(self, code: str | None) -> int | None:
        if not code:
            return self.default_id
        if code not in self.by_code:
            from sqlmodel import select

            self.by_code[code] = self.session.exec(
                scoped(select(Branch.id).where(Branch.code == code), self.principal)
            ).first()
        if self.by_code[code] is None:
            raise ValueError(f"组织代码「{code}」不存在或不在您的管辖范围内")
        return self.by_code[code]


def _in_sheet_words(message: str, columns: list[tuple]) -> str:
    """'id_number:…' from the schema becomes '身份证号:…', the column as the sheet calls it."""
    key, sep, rest = message.partition(":")
    headers = {c[0]: c[1] for c in columns}
    headers["branch_id"] = headers.get("branch_code", "组织")
    return f"{headers[key]}:{rest}" if sep and key in headers else message


def _failed_columns(header: list[str]) -> list[Column]:
    cols = [Column("row", "行号"), Column("reason", "未导入原因")]
    return cols + [Column(f"c{i}", h or f"第{i + 1}列") for i, h in enumerate(header)]


def _run(
    db: Database, job: Job, principal: Principal, columns: list[tuple], convert, bulk_chunk, one_row
) -> JobOutcome:
    import json

    from backend.jobs.service import seal, unseal

    if job.payload is None:
        raise RuntimeError("上传的文件已不在,无法继续导入,请重新上传")
    header, rows = read_rows(unseal(job.payload) or b"", columns)
    # A resumed job goes on after its last committed chunk, with the counts and failed rows committed with it.
    done = job.rows_done or 0
    failed: list[dict[str, Any]] = json.loads(unseal(job.failed_so_far) or b"[]") if done else []
    counts: dict[str, int] = dict((job.result or {}).get("counts_so_far", {})) if done else {}
    default_branch = (job.options or {}).get("branch_id") or principal.branch_id
    state = bulk.ImportState()
    for start in range(done, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        values_of = {n: values for n, _, values in chunk}
        with db.session(write=True) as session:
            session.info["principal"] = principal
            branches = _Branches(session, principal, default_branch)
            outcomes: list[tuple[int, str, str | None]] = []
            prepared = []
            for n, raw, _ in chunk:
                try:
                    prepared.append((n, convert(raw, branches)))
                except ValueError as exc:
                    outcomes.append((n, "error", str(exc)))
            try:
                with session.begin_nested():
                    outcomes += bulk_chunk(session, principal, prepared, default_branch, state)
            except sa.exc.IntegrityError:
                # Someone wrote the same woman or record meanwhile: redo this chunk one row at a time.
                outcomes += [(n, *one_row(session, principal, row, state)) for n, row in prepared]
            for n, outcome, error in outcomes:
                counts[outcome] = counts.get(outcome, 0) + 1
                if outcome == "error":
                    failed.append(
                        {
                            "row": n,
                            "reason": _in_sheet_words(error or "", columns),
                            **{f"c{i}": v for i, v in enumerate(values_of[n])},
                        }
                    )
            done += len(chunk)
            report_progress(
                session,
                job.id,
                done=done,
                failed=len(failed),
                total=len(rows),
                attempt=job.attempts,
                result={"counts_so_far": counts},
                failed_so_far=seal(json.dumps(failed, ensure_ascii=False, default=str).encode())
                if failed
                else None,
            )
    failed.sort(key=lambda r: r["row"])
    return JobOutcome(
        result={"rows": len(rows), **counts}, failed_rows=failed, failed_columns=_failed_columns(header)
    )


def _woman_row(raw: dict[str, Any], branches: _Branches) -> dict[str, Any]:
    return {
        "name": _text(raw.get("name")),
        "id_number": _text(raw.get("id_number")),
        "phone": _text(raw.get("phone")),
        "branch_id": branches.id_for(_text(raw.get("branch_code"))),
    }


def _result_row(raw: dict[str, Any], branches: _Branches) -> dict[str, Any]:
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
