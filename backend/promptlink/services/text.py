"""Text a person or a client sends: refused at the edge when it cannot be stored or shown.

One check for every way text comes in (the chat sockets, REST JSON bodies): a lone UTF-16
surrogate (`\\ud800`, which no UTF-8 encoder accepts and which failed a whole write batch,
issue #13 F3), NUL and the other control characters (C0 and C1) except tab, line feed and
carriage return. Everything else Unicode allows (accents, emoji, right-to-left text) passes.
"""

from __future__ import annotations

import re
from typing import Any

from promptlink.services.errors import InvalidInput

# Lone surrogates (a valid pair is one character once JSON is decoded), C0 controls but
# \t \n \r, DEL and the C1 controls.
_BAD = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
PUBLIC = "El texto contiene caracteres no válidos."
# How deep a JSON document may nest before it is refused (the walk is recursive).
MAX_DEPTH = 32


def bad_character(text: str) -> str | None:
    """A description of the first character `text` may not contain (e.g. "U+D800"), or None."""
    found = _BAD.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def check_text(text: str, *, field: str = "text") -> str:
    """`text` unchanged, or InvalidInput (Spanish `public`) when it has a character it may not contain."""
    bad = bad_character(text)
    if bad is not None:
        raise InvalidInput(f"{field} contains an invalid character ({bad})", public=PUBLIC)
    return text


def check_strings(value: Any, *, field: str = "body", public: str = PUBLIC) -> None:
    """Every string in a decoded JSON value (object keys too) is valid text; else InvalidInput naming the field."""
    _walk(value, field, public, 0)


def _walk(value: Any, where: str, public: str, depth: int) -> None:
    if isinstance(value, str):
        bad = bad_character(value)
        if bad is not None:
            raise InvalidInput(f"{where} contains an invalid character ({bad})", public=public)
        return
    if depth >= MAX_DEPTH and isinstance(value, dict | list | tuple):
        raise InvalidInput(f"{where} is nested too deeply", public=public)
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key[:40]}" if isinstance(key, str) and bad_character(key) is None else where
            if isinstance(key, str):
                _walk(key, f"{where} (a key)", public, depth + 1)
            _walk(item, name, public, depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]", public, depth + 1)
