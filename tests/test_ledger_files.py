"""The ledger files: XLSX and CSV round-trip, sane sheet titles, and no formula injection."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.reporting.ledger_files import (
    BOM,
    Sheet,
    read_xlsx,
    sanitize_sheet_title,
    unique_sheet_titles,
    write_csv,
    write_xlsx,
)

WHEN = datetime(2026, 11, 20, 8, 5)
REPORTS = Sheet(
    title="工单台账",
    headers=["编号", "社区", "描述", "距离", "已办结", "上报时间", "办结时间"],
    rows=[
        [1, "东关社区", "井盖缺失，电动车易摔", 12.5, True, WHEN, datetime(2026, 11, 21, 17, 30)],
        [2, "西街社区", "路灯不亮", 0.0, False, datetime(2026, 11, 20, 23, 59), None],
        [3, "南关社区", None, -3.25, False, datetime(2026, 1, 1, 0, 0), None],
    ],
    widths=[8, 12, 40, 8, 8, 17, 17],
)
SUMMARY = Sheet(
    title="汇总",
    headers=["社区", "应结", "已结", "办结率"],
    rows=[["东关社区", 4, 3, 0.75], ["西街社区", 0, 0, None]],
)
DANGEROUS = [
    '=HYPERLINK("http://evil","点我")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "#N/A",
]


def to_bytes(sheets: list[Sheet]) -> bytes:
    out = io.BytesIO()
    write_xlsx(sheets, out)
    return out.getvalue()


def csv_rows(sheet: Sheet) -> tuple[str, list[list[str]]]:
    out = io.StringIO(newline="")
    write_csv(sheet, out)
    text = out.getvalue()
    assert text.startswith(BOM)
    return text, list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))


# ---- XLSX --------------------------------------------------------------------------------


def test_two_sheets_round_trip_with_their_types() -> None:
    data = to_bytes([REPORTS, SUMMARY])

    book = read_xlsx(data)

    assert list(book) == ["工单台账", "汇总"]
    assert book["工单台账"] == [list(REPORTS.headers), *map(list, REPORTS.rows)]
    assert book["汇总"] == [list(SUMMARY.headers), *map(list, SUMMARY.rows)]
    first = book["工单台账"][1]
    assert type(first[0]) is int
    assert type(first[3]) is float
    assert first[4] is True
    assert book["工单台账"][2][4] is False
    assert first[5] == WHEN


def test_reads_from_a_path_too(tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    write_xlsx([SUMMARY], path)

    assert read_xlsx(path) == read_xlsx(path.read_bytes())
    assert read_xlsx(path)["汇总"][1] == ["东关社区", 4, 3, 0.75]


def test_header_is_bold_and_frozen_dates_formatted_widths_set() -> None:
    wb = load_workbook(io.BytesIO(to_bytes([REPORTS])))
    ws = wb["工单台账"]

    assert ws.freeze_panes == "A2"
    assert all(cell.font.bold for cell in ws[1])
    assert not ws["B2"].font.bold
    assert ws["F2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["F2"].is_date
    assert ws["E2"].data_type == "b"
    # Excel shows the widths asked for (the file stores them with Excel's own padding).
    assert int(ws.column_dimensions["C"].width) == 40
    assert int(ws.column_dimensions["A"].width) == 8


def test_dates_without_time_and_other_values() -> None:
    sheet = Sheet("杂项", ["值"], [[date(2026, 11, 20)], [float("nan")], [Path("a/b")]])

    ws = load_workbook(io.BytesIO(to_bytes([sheet])))["杂项"]

    assert ws["A2"].value == datetime(2026, 11, 20)
    assert ws["A2"].number_format == "yyyy-mm-dd"
    assert ws["A3"].value == "nan"
    assert ws["A4"].value == "a/b"


def test_timezone_aware_datetimes_are_refused() -> None:
    sheet = Sheet("x", ["t"], [[datetime(2026, 11, 20, tzinfo=UTC)]])
    with pytest.raises(ValueError, match="naive"):
        to_bytes([sheet])
    with pytest.raises(ValueError, match="naive"):
        write_csv(sheet, io.StringIO())


def test_control_characters_a_rider_pasted_do_not_break_the_file() -> None:
    sheet = Sheet("x", ["描述"], [["路口\x00积水\x07严重\t注意\r\n换行\r再换"]])

    assert read_xlsx(to_bytes([sheet]))["x"][1] == ["路口积水严重\t注意\n换行\n再换"]


def test_overlong_text_is_cut_to_excels_cell_limit() -> None:
    sheet = Sheet("x", ["描述"], [["长" * 40_000]])
    assert read_xlsx(to_bytes([sheet]))["x"][1] == ["长" * 32_767]


def test_empty_sheets_and_no_sheets() -> None:
    assert read_xlsx(to_bytes([Sheet("空", ["a", "b"], [])])) == {"空": [["a", "b"]]}
    assert read_xlsx(to_bytes([])) == {"Sheet": []}


def test_a_large_sheet_streams_and_reads_back() -> None:
    rows = [
        [i, f"社区{i % 17}", f"描述 {i} 井盖缺失", i / 7, i % 2 == 0, WHEN, None]
        for i in range(20_000)
    ]
    data = to_bytes([Sheet("工单台账", REPORTS.headers, rows)])

    book = read_xlsx(data)["工单台账"]

    assert len(book) == 20_001
    assert book[-1][:5] == [19_999, f"社区{19_999 % 17}", "描述 19999 井盖缺失", 19_999 / 7, False]


# ---- sheet titles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("工单台账", "工单台账"),
        ("2026/11 台账", "2026_11 台账"),
        ("a[b]c:d*e?f/g\\h", "a_b_c_d_e_f_g_h"),
        ("x" * 40, "x" * 31),
        ("'引号'", "引号"),
        ("", "Sheet"),
        ("   ", "Sheet"),
        ("History", "History_"),
    ],
)
def test_sheet_titles_are_sanitised(title: str, expected: str) -> None:
    assert sanitize_sheet_title(title) == expected


def test_titles_that_collide_after_sanitising_are_made_unique() -> None:
    titles = unique_sheet_titles(["台账/11月", "台账:11月", "a" * 40, "A" * 35])

    assert titles[0] == "台账_11月"
    assert titles[1] == "台账_11月 (2)"
    assert titles[2] == "a" * 31
    assert titles[3] == "A" * 27 + " (2)"
    assert all(len(t) <= 31 for t in titles)


def test_the_workbook_uses_the_sanitised_titles() -> None:
    sheets = [Sheet("台账[11/20]", ["a"], [[1]]), Sheet("台账[11:20]", ["a"], [[2]])]

    assert list(read_xlsx(to_bytes(sheets))) == ["台账_11_20_", "台账_11_20_ (2)"]


# ---- formula injection -------------------------------------------------------------------


def test_xlsx_never_stores_a_riders_text_as_a_formula() -> None:
    sheet = Sheet("x", ["=header"], [[text] for text in DANGEROUS])
    data = to_bytes([sheet])

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = "".join(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )
    assert "<f>" not in xml
    assert 't="e"' not in xml

    ws = load_workbook(io.BytesIO(data))["x"]
    cells = [ws.cell(row=r, column=1) for r in range(1, len(DANGEROUS) + 2)]
    stored = [text.replace("\r", "\n") for text in DANGEROUS]  # XLSX has no lone CR
    assert [c.value for c in cells] == ["=header", *stored]
    assert all(c.data_type == "s" for c in cells)
    assert all(c.quotePrefix for c in cells if c.value != "#N/A")
    assert read_xlsx(data)["x"] == [["=header"], *[[text] for text in stored]]


def test_csv_prefixes_formula_like_text_with_an_apostrophe() -> None:
    sheet = Sheet("x", ["=header", "ok"], [[text, "井盖 = 缺失"] for text in DANGEROUS])

    _text, rows = csv_rows(sheet)

    assert rows[0] == ["'=header", "ok"]
    for text, row in zip(DANGEROUS, rows[1:], strict=True):
        expected = text if text == "#N/A" else "'" + text
        assert row == [expected, "井盖 = 缺失"]


def test_negative_numbers_are_numbers_not_injections() -> None:
    _text, rows = csv_rows(Sheet("x", ["n"], [[-3], [-2.5]]))
    assert rows[1:] == [["-3"], ["-2.5"]]


# ---- CSV ---------------------------------------------------------------------------------


def test_csv_round_trip() -> None:
    text, rows = csv_rows(REPORTS)

    assert text.count(BOM) == 1
    assert "\r\n" in text
    assert rows == [
        list(REPORTS.headers),
        [
            "1",
            "东关社区",
            "井盖缺失，电动车易摔",
            "12.5",
            "TRUE",
            "2026-11-20 08:05",
            "2026-11-21 17:30",
        ],
        ["2", "西街社区", "路灯不亮", "0.0", "FALSE", "2026-11-20 23:59", ""],
        ["3", "南关社区", "", "-3.25", "FALSE", "2026-01-01 00:00", ""],
    ]


def test_csv_survives_quotes_commas_and_newlines() -> None:
    note = '他说"这里,很滑"\n第二行'
    _text, rows = csv_rows(Sheet("x", ["描述"], [[note]]))
    assert rows == [["描述"], [note]]


def test_csv_encodes_to_utf8_with_bom_for_excel(tmp_path: Path) -> None:
    path = tmp_path / "台账.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write_csv(SUMMARY, out)

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f)) == list(SUMMARY.headers)
