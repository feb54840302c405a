"""Row ids that arrive in a request: in a URL path, a query string or a form.

Every supported database stores a primary key as a signed 64-bit integer.
A larger number from a request must match nothing (a 404 or a form error),
not reach the database driver, where SQLite raises OverflowError.
"""

from __future__ import annotations

# The largest primary key any supported database stores.
MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value: object) -> int | None:
    """`value` as a row id if it is one (ASCII digits, 1..MAX_ID), else None.

    Full-width or other Unicode digits pass `str.isdigit()` but not `int()`,
    and a 10 kB digit string exceeds Python's int-conversion limit, so the
    text is checked before it is converted.
    """
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


class IdConverter:
    """`<id:pk>` in a URL pattern: a row id the database can hold, or no match (404).

    Django's own `<int:…>` accepts any number of digits, so
    `/jobs/100000000000000000000/` reached the query and answered 500 on SQLite.
    """

    regex = f"[0-9]{{1,{_MAX_DIGITS}}}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            # ValueError tells the resolver that this pattern does not match.
            raise ValueError(value)
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)
