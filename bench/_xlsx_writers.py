"""The ledger's XLSX written with openpyxl's write-only mode, to compare with the project's.

Not a script (the leading underscore keeps tests/test_benchmarks.py from running it). The
project writes with xlsxwriter (bot.reporting.ledger_files.write_xlsx, constant-memory mode): it
was measured 2.5x faster than this on the ledger (see bench/README.md). This writes the same
workbook (bold frozen header, widths, "yyyy-mm-dd hh:mm" datetimes, booleans as booleans,
every string a string with a quote prefix when a spreadsheet would evaluate it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.reporting.ledger_files import (
    DATE_FORMAT_XLSX,
    DATETIME_FORMAT_XLSX,
    DEFAULT_TITLE,
    MAX_CELL_CHARS,
    Sheet,
    _naive,
    looks_like_formula,
    unique_sheet_titles,
)

BOLD = Font(bold=True)


def write_xlsx_openpyxl(sheets: Sequence[Sheet], out: BinaryIO) -> None:
    """The project's former writer: openpyxl's write-only mode (kept here to compare).

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
