"""Excel imports run as jobs, whatever the domain: the template, the upload checks, rows read by their Chinese
headers, cell conversions, and the chunked run with progress, resume and a failed-rows sheet.

A domain gives its columns, how a raw row becomes the values its schema takes (`convert`), how a chunk is
written at once (`write_chunk`) and, when the chunk meets a row someone wrote meanwhile, how one row is written
alone (`write_one`). Columns are tuples: (key, header, dictionary, required, text column, hint).
"""

import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from backend.branches.models import Branch
from backend.core.db import Database
from backend.core.errors import BadRequest, PayloadTooLarge, UnsupportedMedia
from backend.core.paging import Column
from backend.core.scope import Principal, scoped
from backend.jobs.models import Job
from backend.jobs.service import JobOutcome, report_progress, seal, unseal
from backend.meta.dictionaries import DICTIONARIES

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # under the app-wide body limit
MAX_ROWS = 50_000
CHUNK = 500

# (outcome, error) per sheet row number: outcome "created", "updated", "error"…
Outcome = tuple[int, str, str | None]
WriteChunk = Callable[[Any, Principal, list[tuple[int, dict[str, Any]]], int, Any], list[Outcome]]
WriteOne = Callable[[Any, Principal, dict[str, Any], Any], tuple[str, str | None]]


def template_bytes(title: str, columns: list[tuple]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

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


def check_header(data: bytes, columns: list[tuple]) -> None:
    """Refuse a file without the template's required columns before any job is made."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        header = next(wb.worksheets[0].iter_rows(max_row=1, values_only=True), None)
        wb.close()
    except Exception:
        raise BadRequest("文件无法读取,请确认是 Excel 的 .xlsx 文件") from None
    present = {str(h or "").strip().rstrip("*").strip() for h in header or ()}
    missing = [h for _, h, _, required, *_ in columns if required and h not in present]
    if missing:
        raise BadRequest(f"表格缺少列:{'、'.join(missing)}(请使用模板)")


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


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        raise ValueError("数字被 Excel 改成了科学计数法,请把这一列设为文本格式后重新填写")
    out = str(value).strip()
    return out or None


def day(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date) or value is None:
        return value
    out = str(value).strip().replace("/", "-").replace(".", "-")
    if len(out) == 8 and out.isdigit():
        out = f"{out[:4]}-{out[4:6]}-{out[6:]}"
    return out


def _reverse(dictionary: str) -> dict[str, str]:
    mapping = {v: k for k, v in DICTIONARIES[dictionary].items()}
    mapping.update({k.lower(): k for k in DICTIONARIES[dictionary]})
    return mapping


def coded(value: Any, dictionary: str) -> Any:
    """A dictionary value written in Chinese (or as its code) → its code; anything else is left for the schema."""
    out = text(value)
    if out is None:
        return None
    return _reverse(dictionary).get(out, _reverse(dictionary).get(out.lower(), out))


def yes(value: Any) -> bool:
    return (text(value) or "").lower() in {"是", "已签", "有", "y", "yes", "true", "1"}


class BranchCodes:
    """Organisation codes in the file, resolved once and only within the uploader's scope."""

    def __init__(self, session, principal: Principal, default_id: int):
        self.session, self.principal, self.default_id = session, principal, default_id
        self.by_code: dict[str, int | None] = {}

    def id_for(self, code: str | None) -> int | None:
        if not code:
            return self.default_id
        if code not in self.by_code:
            self.by_code[code] = self.session.execute(
                scoped(sa.select(Branch.id).where(Branch.code == code), self.principal, Branch)
            ).scalar()
        if self.by_code[code] is None:
            raise ValueError(f"组织代码「{code}」不存在或不在您的管辖范围内")
        return self.by_code[code]


def in_sheet_words(message: str, columns: list[tuple]) -> str:
    """'id_number:…' from the schema becomes '身份证号:…', the column as the sheet calls it."""
    key, sep, rest = message.partition(":")
    headers = {c[0]: c[1] for c in columns}
    headers["branch_id"] = headers.get("branch_code", "组织")
    return f"{headers[key]}:{rest}" if sep and key in headers else message


def failed_columns(header: list[str]) -> list[Column]:
    cols = [Column("row", "行号"), Column("reason", "未导入原因")]
    return cols + [Column(f"c{i}", h or f"第{i + 1}列") for i, h in enumerate(header)]


def run_import(
    db: Database,
    job: Job,
    principal: Principal,
    columns: list[tuple],
    convert: Callable[[dict[str, Any], BranchCodes], dict[str, Any]],
    write_chunk: WriteChunk,
    write_one: WriteOne,
    *,
    state: Any = None,
    chunk_size: int = CHUNK,
) -> JobOutcome:
    """Read the job's file and write it chunk by chunk, each chunk committed with the job's progress."""
    if job.payload is None:
        raise RuntimeError("上传的文件已不在,无法继续导入,请重新上传")
    header, rows = read_rows(unseal(job.payload) or b"", columns)
    # A resumed job goes on after its last committed chunk, with the counts and failed rows committed with it.
    done = job.rows_done or 0
    failed: list[dict[str, Any]] = json.loads(unseal(job.failed_so_far) or b"[]") if done else []
    counts: dict[str, int] = dict((job.result or {}).get("counts_so_far", {})) if done else {}
    default_branch = (job.options or {}).get("branch_id") or principal.branch_id
    for start in range(done, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        values_of = {n: values for n, _, values in chunk}
        with db.session(write=True) as session:
            session.info["principal"] = principal
            branches = BranchCodes(session, principal, default_branch)
            outcomes: list[Outcome] = []
            prepared = []
            for n, raw, _ in chunk:
                try:
                    prepared.append((n, convert(raw, branches)))
                except ValueError as exc:
                    outcomes.append((n, "error", str(exc)))
            try:
                with session.begin_nested():
                    outcomes += write_chunk(session, principal, prepared, default_branch, state)
            except sa.exc.IntegrityError:
                # Someone wrote the same row meanwhile: redo this chunk one row at a time.
                outcomes += [(n, *write_one(session, principal, row, state)) for n, row in prepared]
            for n, outcome, error in outcomes:
                counts[outcome] = counts.get(outcome, 0) + 1
                if outcome == "error":
                    failed.append(
                        {
                            "row": n,
                            "reason": in_sheet_words(error or "", columns),
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
        result={"rows": len(rows), **counts}, failed_rows=failed, failed_columns=failed_columns(header)
    )
