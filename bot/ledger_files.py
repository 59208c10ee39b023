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
from typing import BinaryIO, TextIO

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

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
BOLD = Font(bold=True)


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
    """Write the sheets as one workbook, streaming rows (openpyxl write-only mode).

    Headers are bold and frozen; datetimes show as "yyyy-mm-dd hh:mm"; booleans stay
    booleans; strings are always strings. Titles are sanitised and made unique.
    Timezone-aware datetimes raise ValueError, before anything is written.
    """
    for sheet in sheets:  # checked first: a half-written workbook leaves temp files behind
        for row in sheet.rows:
            for value in row:
                if isinstance(value, datetime):
                    _naive(value)
    wb = Workbook(write_only=True)
    titles = unique_sheet_titles([s.title for s in sheets] or [DEFAULT_TITLE])
    if not sheets:
        wb.create_sheet(titles[0])  # a workbook needs at least one sheet
    for sheet, title in zip(sheets, titles, strict=False):
        ws = wb.create_sheet(title)
        for index, width in enumerate(sheet.widths or (), start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "A2"
        header = [_string_cell(ws, str(text)) for text in sheet.headers]
        for cell in header:
            cell.font = BOLD
        ws.append(header)
        for row in sheet.rows:
            ws.append([_xlsx_cell(ws, value) for value in row])
    wb.save(out)


def _xlsx_cell(ws: WriteOnlyWorksheet, value: object) -> object:
    """The value itself when openpyxl stores it faithfully, else a cell that pins its type."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _string_cell(ws, str(value))
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value)
        cell.number_format = DATETIME_FORMAT_XLSX
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value)
        cell.number_format = DATE_FORMAT_XLSX
        return cell
    return _string_cell(ws, value if isinstance(value, str) else str(value))


def _string_cell(ws: WriteOnlyWorksheet, text: str) -> Cell:
    # Control characters other than tab/CR/LF are not allowed in XML: dropped.
    # XML turns CR into LF anyway; doing it here keeps "\r\n" from becoming two breaks.
    clean = ILLEGAL_CHARACTERS_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    cell = WriteOnlyCell(ws, clean[:MAX_CELL_CHARS])
    cell.data_type = "s"  # openpyxl infers "=..." as a formula and "#N/A" as an error
    if looks_like_formula(text):
        cell.quotePrefix = True  # Excel keeps it text even after the cell is edited
    return cell


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
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    width = max((len(row) for row in rows), default=0)
    for row in rows:
        yield row + [None] * (width - len(row))
