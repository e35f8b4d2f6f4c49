"""List conventions shared by every list: limit/offset, sort, q, totals and Excel export."""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import quote

import pydantic_core
import sqlalchemy as sa
from fastapi import Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from backend.core.clock import CHINA_TZ, china_stamp
from backend.core.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Past this many rows an exact count costs more than the page; the list then says "at least N".
COUNT_CAP = 10_000
EXPORT_MAX_ROWS = 50_000
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(
        description="符合条件的条数;`total_exact` 为 false 时表示「至少这么多」(超过 10,000 条不再精确计数)"
    )
    total_exact: bool = Field(default=True, description="false:total 是下限,精确计数比这一页更贵")
    limit: int
    offset: int


_XLSX_CONTENT = {XLSX_MEDIA: {"schema": {"type": "string", "format": "binary"}}}
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": _XLSX_CONTENT,
        "description": "The page as JSON, or with `format=xlsx` every filtered row as an Excel file",
    },
}
XLSX_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": _XLSX_CONTENT}}


@dataclass(frozen=True)
class Column:
    """One column of an Excel export: the field, its Chinese header and, for enums, its dictionary."""

    key: str
    label: str
    dictionary: str | None = None
    value: Callable[[dict[str, Any]], Any] | None = None


@dataclass
class ListParams:
    limit: int
    offset: int
    sort: str | None
    q: str | None
    format: str

    def search(self, stmt: Any, columns: Sequence[Any]) -> Any:
        if not self.q or not columns:
            return stmt
        needle = f"%{self.q.strip().lower()}%"
        return stmt.where(sa.or_(*(sa.func.lower(c).like(needle) for c in columns)))

    def order(self, stmt: Any, sortable: dict[str, Any], default: str) -> Any:
        spec = self.sort or default
        clauses = []
        for part in [p.strip() for p in spec.split(",") if p.strip()]:
            desc = part.startswith("-")
            name = part.lstrip("-+")
            if name not in sortable:
                raise ValidationFailed("sort", f"不能按「{name}」排序,可选:{', '.join(sorted(sortable))}")
            col = sortable[name]
            clauses.append(col.desc() if desc else col.asc())
        # A stable tiebreak so pages never repeat or skip rows.
        if "id" in sortable:
            clauses.append(sortable["id"].desc() if spec.lstrip().startswith("-") else sortable["id"].asc())
        return stmt.order_by(*clauses)

    def respond(
        self,
        session: Session,
        stmt: Any,
        to_public: Callable[[Any], BaseModel] | type[BaseModel],
        *,
        sortable: dict[str, Any],
        default_sort: str = "-created_at",
        search: Sequence[Any] = (),
        columns: Sequence[Column] = (),
        filename: str = "export",
        scalars: bool = True,
    ) -> Any:
        stmt = self.search(stmt, search)
        convert = _converter(to_public)
        if self.format == "xlsx":
            ordered = self.order(stmt, sortable, default_sort).limit(EXPORT_MAX_ROWS)
            rows = session.scalars(ordered).all() if scalars else session.execute(ordered).all()
            return xlsx_response([convert(r).model_dump(mode="json") for r in rows], columns, filename)
        total, exact = count_rows(session, stmt)
        page = self.order(stmt, sortable, default_sort).limit(self.limit).offset(self.offset)
        if scalars:
            rows = session.scalars(page).all()
        elif _selects_entities(page):
            rows = session.execute(page).all()
        else:
            # Plain columns go through the connection: the ORM's row handling adds nothing to a page only read.
            rows = session.connection().execute(page).all()
        body = {
            "items": [convert(r) for r in rows],
            "total": total,
            "total_exact": exact,
            "limit": self.limit,
            "offset": self.offset,
        }
        # The items are already validated public models: serialise them once, in pydantic's JSON encoder,
        # rather than have the response model validate and encode them again.
        return Response(pydantic_core.to_json(body, by_alias=True), media_type="application/json")


def _selects_entities(stmt: Any) -> bool:
    return any(d["entity"] is not None and d["type"] is d["entity"] for d in stmt.column_descriptions)


def _converter(to_public: Any) -> Callable[[Any], BaseModel]:
    if isinstance(to_public, type) and issubclass(to_public, BaseModel):
        return lambda row: to_public.model_validate(row, from_attributes=True)
    return to_public


def count_rows(session: Session, stmt: Any, cap: int | None = None) -> tuple[int, bool]:
    """Exact total up to `cap`; beyond it (True → exact, False → 'at least cap')."""
    cap = COUNT_CAP if cap is None else cap
    # Count bare rows: extra columns (e.g. a looked-up branch name) would be computed for every counted row.
    bare = stmt.with_only_columns(sa.literal_column("1"), maintain_column_froms=True)
    limited = bare.order_by(None).limit(cap + 1).subquery()
    n = session.execute(sa.select(sa.func.count()).select_from(limited)).scalar_one()
    return (cap, False) if n > cap else (n, True)


async def list_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="跳过条数")] = 0,
    sort: Annotated[str | None, Query(description="排序字段,逗号分隔,前加 - 为倒序", max_length=200)] = None,
    q: Annotated[str | None, Query(description="关键字搜索", max_length=100)] = None,
    format: Annotated[Literal["json", "xlsx"], Query(description="xlsx 导出全部筛选结果")] = "json",
) -> ListParams:
    return ListParams(limit=limit, offset=offset, sort=sort, q=q or None, format=format)


PageDep = Annotated[ListParams, Depends(list_params)]


_labels: list[Callable[[str, Any], Any]] = []


def register_labels(label: Callable[[str, Any], Any]) -> None:
    """The dictionaries (`meta`) tell exports how a stored value reads: `label("gender", "female")` → "女"."""
    _labels[:] = [label]


def _cell(value: Any, column: Column, row: dict[str, Any]) -> Any:
    if column.value is not None:
        return column.value(row)
    if value is None:
        return ""
    if column.dictionary:
        return _labels[0](column.dictionary, value) if _labels else value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    if isinstance(value, list | dict):
        return "、".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return value


def xlsx_bytes(rows: list[dict[str, Any]], columns: Sequence[Column], sheet: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append([c.label for c in columns])
    for row in rows:
        # Control characters (anything a client typed) cannot be stored in a worksheet: drop them, not the export.
        ws.append([_printable(_cell(_dig(row, c.key), c, row)) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _printable(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _dig(row: dict[str, Any], key: str) -> Any:
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def xlsx_file(data: bytes, name: str) -> Response:
    """An .xlsx download; the name may be Chinese."""
    return Response(
        data,
        media_type=XLSX_MEDIA,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


def xlsx_response(rows: list[dict[str, Any]], columns: Sequence[Column], filename: str) -> Response:
    return xlsx_file(xlsx_bytes(rows, columns), f"{filename}-{china_stamp()}.xlsx")
