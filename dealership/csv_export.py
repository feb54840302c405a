"""CSV downloads: one way to write them, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
read by Excel and LibreOffice as a formula; a customer's comment such as
`=HYPERLINK(...)` would then run in the reader's spreadsheet. Every cell is
written through `cell()`, which prefixes such text with an apostrophe. Files
begin with a byte-order mark: Excel opens UTF-8 (Japanese) correctly only
with it. Rows are streamed, so a long export holds one row in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula.

    Numbers are left alone (a negative figure is a number, not a formula).
    """
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write() hands the line back to the writer's caller."""

    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]) -> StreamingHttpResponse:
    """A streamed CSV download of `header` then `rows`, every cell through `cell()`."""
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield "\ufeff"
        yield writer.writerow([cell(value) for value in header])
        for row in rows:
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
