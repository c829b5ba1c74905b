"""The one rule for text the back office accepts, stored or searched.

Every string a caller sends is either a *line* (names, e-mail addresses, phone numbers, labels,
subtypes, statuses, document numbers, search terms) or *free text* (notes, hold details,
reasons). Both are NFC-normalised, so that what looks the same compares the same, and have a
maximum length per field, counted after normalisation. Beyond that:

- a line is one line: any run of white space (tabs, line breaks, no-break spaces …) becomes one
  space and the ends are trimmed; control characters (ESC, NUL …) and invisible format
  characters (zero-width spaces and joiners, bidirectional overrides, byte-order marks) are
  refused, so a name always prints as what it is;
- free text keeps its line breaks (CR LF and CR become LF) and tabs; other control characters
  and the bidirectional controls (which can make text display in another order than it is
  stored) are refused.

An empty result (nothing left after trimming) is None. A refusal is `ValidationFailed` naming
the field and the character's code point. Before any of this, the API refuses NUL characters,
lone surrogates and strings over `MAX_STRING_LENGTH` characters anywhere in a request
(docs/design.md, "Limits").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, Final

from app.errors import ValidationFailed

MAX_STRING_LENGTH: Final = 10_000
"""No string in a request is longer, whatever the field (the longest field takes 5,000)."""

# Per-field maximum lengths, in characters. Columns with a length use the column's.
SEARCH_LENGTH: Final = 100
STATUS_NAME_LENGTH: Final = 50
DOCUMENT_NUMBER_LENGTH: Final = 40
LONG_TEXT_LENGTH: Final = 5_000
"""Notes and hold details."""
REASON_LENGTH: Final = 6_000
"""A status change's reason (a hold's reason is its category and its details)."""
LINE_DESCRIPTION_LENGTH: Final = 300

_WHITESPACE = re.compile(r"\s+")
_NEWLINES = re.compile(r"\r\n?")
# Bidirectional controls: Arabic letter mark, LRM/RLM, embeddings and overrides, isolates.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_REFUSED = frozenset({"Cc", "Cf", "Cs"})
_TEXT_KEPT = frozenset("\n\t")


def column_length(column: Any) -> int:
    """The length of a `String(n)` column (a mapped attribute), as a field's maximum."""
    return int(column.type.length)


def _refuse(char: str, field: str) -> ValidationFailed:
    name = unicodedata.name(char, "a control character")
    return ValidationFailed(f"Contains U+{ord(char):04X} ({name.lower()}), which is not allowed here.", field=field)


def _check_length(value: str, field: str, max_length: int) -> None:
    if len(value) > max_length:
        raise ValidationFailed(f"At most {max_length} characters.", field=field)


def _clean(
    value: str | None, field: str, max_length: int, normalise: Callable[[str], str], refused: Callable[[str], bool]
) -> str | None:
    if value is None:
        return None
    _check_length(value, field, MAX_STRING_LENGTH)
    cleaned = normalise(unicodedata.normalize("NFC", value)).strip()
    bad = next((char for char in cleaned if refused(char)), None)
    if bad is not None:
        raise _refuse(bad, field)
    _check_length(cleaned, field, max_length)
    return cleaned or None


def _refused_in_line(char: str) -> bool:
    return not char.isprintable() and unicodedata.category(char) in _LINE_REFUSED


def _refused_in_text(char: str) -> bool:
    return char in _BIDI or (
        char not in _TEXT_KEPT and not char.isprintable() and unicodedata.category(char) in ("Cc", "Cs")
    )


def line(value: str | None, *, field: str, max_length: int) -> str | None:
    """`value` as one clean line, or None when nothing is left; ValidationFailed otherwise."""
    return _clean(value, field, max_length, lambda s: _WHITESPACE.sub(" ", s), _refused_in_line)


def text(value: str | None, *, field: str, max_length: int) -> str | None:
    """`value` as free text (line breaks kept), or None when only white space is left."""
    return _clean(value, field, max_length, lambda s: _NEWLINES.sub("\n", s), _refused_in_text)


def lines(values: Iterable[str], *, field: str, max_length: int) -> tuple[str, ...]:
    """Each of `values` as a line (a filter's list of names); empty ones dropped."""
    cleaned = (line(value, field=field, max_length=max_length) for value in values)
    return tuple(value for value in cleaned if value is not None)
