"""The ledger's XLSX written with xlsxwriter's constant-memory mode, to compare with openpyxl.

Not a script (the leading underscore keeps tests/test_benchmarks.py from running it). It
writes the same workbook as bot.ledger_files.write_xlsx (bold frozen header, column widths,
"yyyy-mm-dd hh:mm" datetimes, booleans as booleans, every string a string with a quote
prefix when a spreadsheet would evaluate it), so the two can be timed on the same sheets.
xlsxwriter is not a project dependency: `pip install xlsxwriter` to measure it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, BinaryIO

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bot.ledger_files import (
    DATE_FORMAT_XLSX,
    DATETIME_FORMAT_XLSX,
    MAX_CELL_CHARS,
    Sheet,
    looks_like_formula,
    unique_sheet_titles,
)

try:
    import xlsxwriter
except ImportError:  # measured only where it is installed
    xlsxwriter = None


def available() -> bool:
    return xlsxwriter is not None


def write_xlsx_xlsxwriter(sheets: Sequence[Sheet], out: BinaryIO) -> None:
    """Like bot.ledger_files.write_xlsx, with xlsxwriter (constant_memory: row by row)."""
    assert xlsxwriter is not None, "pip install xlsxwriter"
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False})
    bold = wb.add_format({"bold": True})
    stamp = wb.add_format({"num_format": DATETIME_FORMAT_XLSX})
    day = wb.add_format({"num_format": DATE_FORMAT_XLSX})
    quoted = wb.add_format({"quote_prefix": True})
    for sheet, title in zip(sheets, unique_sheet_titles([s.title for s in sheets]), strict=True):
        ws = wb.add_worksheet(title)
        for col, width in enumerate(sheet.widths or ()):
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
        for col, text in enumerate(sheet.headers):
            ws.write_string(0, col, _clean(str(text)), bold)
        for r, row in enumerate(sheet.rows, start=1):
            for col, value in enumerate(row):
                _write(ws, r, col, value, stamp, day, quoted)
    wb.close()


def _write(ws: Any, r: int, c: int, value: object, stamp: Any, day: Any, quoted: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, int | float) and math.isfinite(value):
        ws.write_number(r, c, value)
    elif isinstance(value, datetime):
        ws.write_datetime(r, c, value, stamp)
    elif isinstance(value, date):
        ws.write_datetime(r, c, value, day)
    else:
        text = value if isinstance(value, str) else str(value)
        ws.write_string(r, c, _clean(text), quoted if looks_like_formula(text) else None)


def _clean(text: str) -> str:
    clean = ILLEGAL_CHARACTERS_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return clean[:MAX_CELL_CHARS]
