"""Text the service writes for other programs."""

from __future__ import annotations

import pytest

from app.text import csv_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+32 2 208 12 11", "'+32 2 208 12 11"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("Grand-Place", "Grand-Place"),
        ("", ""),
        (None, ""),
        (-4.35, "-4.35"),
        (12, "12"),
        (True, "True"),
    ],
)
def test_a_csv_cell_a_spreadsheet_would_run_is_made_text(value: object, cell: str) -> None:
    assert csv_cell(value) == cell
