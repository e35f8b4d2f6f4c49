"""Resident ID numbers (GB 11643): 6-digit region, 8-digit birth date, 3-digit sequence, ISO 7064 MOD 11-2 check."""

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# Province-level codes in use (including Taiwan 71, Hong Kong 81, Macao 82 and the 83 of residence permits).
PROVINCES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
    "83",
}
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class IdNumberError(ValueError):
    """The number is not a valid resident ID; the message says what to fix, in words a cadre understands."""


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str, today: date | None = None) -> tuple[str, date]:
    """Normalise (trim, upper-case X) and validate; returns the number and the birth date it carries."""
    value = (raw or "").strip().replace(" ", "").upper()
    if len(value) != 18:
        raise IdNumberError(f"身份证号应为 18 位,现在是 {len(value)} 位")
    if not _SHAPE.match(value):
        raise IdNumberError("身份证号前 17 位应为数字,最后一位为数字或 X")
    if value[:2] not in PROVINCES or value[2:6] == "0000":
        raise IdNumberError(f"身份证号前 6 位地区码「{value[:6]}」不存在")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError(f"身份证号中的出生日期「{value[6:14]}」不是真实的日期") from None
    today = today or date.today()
    if born > today or born.year < 1900:
        raise IdNumberError(f"身份证号中的出生日期「{value[6:14]}」不合理")
    if check_char(value[:17]) != value[17]:
        raise IdNumberError("身份证号校验位不正确,请核对是否抄错")
    return value, born


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A valid number for tests, demos and benchmarks (sequence 0-999; odd for men, even for women)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
