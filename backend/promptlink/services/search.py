"""Search terms in SQL LIKE patterns, matched literally."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """`%text%` where `%`, `_` and the escape character in `text` match themselves (issue #13 F15:
    a search for «%» matched every row)."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def contains_any(text: str, *columns: Any) -> ColumnElement[bool]:
    """Any of `columns` contains `text` (case-insensitive, wildcards literal)."""
    pattern = like_pattern(text)
    return or_(*(column.ilike(pattern, escape=ESCAPE) for column in columns))
