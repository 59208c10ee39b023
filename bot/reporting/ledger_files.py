"""The ledger (台账) as a file staff can open in Excel/WPS: XLSX, or CSV for other tools.

Pure: sheets of plain values in, bytes out. Riders write free text, so nothing they
type may ever become a formula: in XLSX every string is stored as a string (never
inferred as a formula or an error like "#N/A"), and in CSV a string that a spreadsheet
would evaluate gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import xlsxwriter
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

BOM = "\ufeff"
DATETIME_FORMAT_XLSX = "yyyy-mm-dd hh:mm"
DATE_FORMAT_XLSX = "yyyy-mm-dd"
DATETIME_FORMAT_CSV = "%Y-%m-%d %H:%M"
DATE_FORMAT_CSV = "%Y-%m-%d"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS = 32_767  # Excel's limit; longer text makes it "repair" the file
MAX_TITLE_CHARS = 31
TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
RESERVED_TITLES = {"history"}  # Excel keeps it for change tracking
DEFAULT_TITLE = "Sheet"


@dataclass(frozen=True)
class Sheet:
    """One table: its title, a header row, then rows of str/int/float/bool/None/datetime.

    Datetimes are naive local time (Excel has no time zones). `widths` are column widths
    in Excel's character units, left to right; None leaves Excel's default.
    """

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    widths: Sequence[int] | None = None


def sanitize_sheet_title(title: str) -> str:
    """A title Excel accepts: no []:*?/\\, not blank, ≤31 characters, no edge apostrophes."""
    clean = TITLE_FORBIDDEN.sub("_", ILLEGAL_CHARACTERS_RE.sub("", title)).strip()
    clean = clean[:MAX_TITLE_CHARS].strip().strip("'").strip()
    if not clean or clean.lower() in RESERVED_TITLES:
        clean = f"{clean}_" if clean else DEFAULT_TITLE
    return clean


def unique_sheet_titles(titles: Sequence[str]) -> list[str]:
    """Sanitised titles, made unique the way Excel compares them (ignoring case)."""
    seen: set[str] = set()
    result = []
    for title in titles:
        base = sanitize_sheet_title(title)
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            suffix = f" ({n})"
            candidate = base[: MAX_TITLE_CHARS - len(suffix)].rstrip().rstrip("'") + suffix
        seen.add(candidate.lower())
        result.append(candidate)
    return result


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet might evaluate this text (OWASP's CSV-injection starters)."""
    return text.startswith(FORMULA_STARTS)


def write_xlsx(sheets: Sequence[Sheet], out: BinaryIO | Path) -> None:
    """Write the sheets as one workbook, row by row (xlsxwriter's constant-memory mode).

    Headers are bold and frozen; datetimes show as "yyyy-mm-dd hh:mm"; booleans stay
    booleans; strings are always strings (a formula-like one also gets Excel's quote
    prefix). Titles are sanitised and made unique. Timezone-aware datetimes raise
    ValueError, before anything is written.
    """
    for sheet in sheets:  # checked first: never leave a half-written workbook behind
        for row in sheet.rows:
            for value in row:
                if isinstance(value, datetime):
                    _naive(value)
    target = str(out) if isinstance(out, Path) else out
    wb = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_numbers": False, "in_memory": False}
    )
    formats = _Formats(
        bold=wb.add_format({"bold": True}),
        bold_quoted=wb.add_format({"bold": True, "quote_prefix": True}),
        stamp=wb.add_format({"num_format": DATETIME_FORMAT_XLSX}),
        day=wb.add_format({"num_format": DATE_FORMAT_XLSX}),
        quoted=wb.add_format({"quote_prefix": True}),
    )
    titles = unique_sheet_titles([s.title for s in sheets] or [DEFAULT_TITLE])
    if not sheets:
        wb.add_worksheet(titles[0])  # a workbook needs at least one sheet
    for sheet, title in zip(sheets, titles, strict=False):
        ws = wb.add_worksheet(title)
        for col, width in enumerate(sheet.widths or ()):
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
        for col, text in enumerate(map(str, sheet.headers)):
            bold = formats.bold_quoted if looks_like_formula(text) else formats.bold
            ws.write_string(0, col, _clean(text), bold)
        for r, row in enumerate(sheet.rows, start=1):
            for col, value in enumerate(row):
                _write_cell(ws, r, col, value, formats)
    wb.close()


@dataclass(frozen=True)
class _Formats:
    bold: Any
    bold_quoted: Any
    stamp: Any
    day: Any
    quoted: Any


def _write_cell(ws: Any, r: int, c: int, value: object, formats: _Formats) -> None:
    """Each value with the type it has: never inferred, so "=1+1" and "#N/A" stay text."""
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, int | float) and math.isfinite(value):
        ws.write_number(r, c, value)
    elif isinstance(value, datetime):
        ws.write_datetime(r, c, value, formats.stamp)
    elif isinstance(value, date):
        ws.write_datetime(r, c, value, formats.day)
    else:
        text = value if isinstance(value, str) else str(value)
        ws.write_string(r, c, _clean(text), formats.quoted if looks_like_formula(text) else None)


def _clean(text: str) -> str:
    """Control characters other than tab/CR/LF are not allowed in XML: dropped. XML turns
    CR into LF anyway; doing it here keeps "\r\n" from becoming two breaks."""
    clean = ILLEGAL_CHARACTERS_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return clean[:MAX_CELL_CHARS]


def write_csv(sheet: Sheet, out: TextIO) -> None:
    """Write one sheet as CSV, starting with a BOM so Excel reads the Chinese as UTF-8.

    Open `out` with newline="" (rows end in CRLF). Datetimes are "YYYY-MM-DD HH:MM",
    None is empty, booleans are TRUE/FALSE, and formula-like strings get a leading "'".
    """
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow([_csv_value(h) for h in sheet.headers])
    writer.writerows([_csv_value(v) for v in row] for row in sheet.rows)


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return _naive(value).strftime(DATETIME_FORMAT_CSV)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT_CSV)
    if isinstance(value, int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    return f"'{text}" if looks_like_formula(text) else text


def _naive(value: datetime) -> datetime:
    if value.tzinfo is not None:
        raise ValueError(f"ledger datetimes must be naive local time, got {value!r}")
    return value


def read_xlsx(path_or_bytes: Path | bytes) -> dict[str, list[list[object]]]:
    """Every sheet's rows, header row included, by title (for round-trip tests and tools).

    Rows are padded with None to the sheet's width; dates come back as datetimes.
    """
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    wb = load_workbook(source, read_only=True, data_only=True)
    try:
        return {ws.title: list(_rows(ws)) for ws in wb.worksheets}
    finally:
        wb.close()


def _rows(ws: ReadOnlyWorksheet) -> Iterator[list[object]]:
    rows: list[list[object]] = [list(row) for row in ws.values]
    width = max((len(row) for row in rows), default=0)
    for row in rows:
        yield row + [None] * (width - len(row))
