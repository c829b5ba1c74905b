"""The one rule for accepted text (`app/text.py`): lines and free text."""

from __future__ import annotations

import pytest

from app import text
from app.errors import ValidationFailed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Voltara \t B.V.\r\n", "Voltara B.V."),
        ("Caf\u0065\u0301", "Caf\u00e9"),
        ("   ", None),
        (None, None),
        ("Laadpunt\u2028Groningen", "Laadpunt Groningen"),
        ("\u6771\u4eac \U0001f50c", "\u6771\u4eac \U0001f50c"),
    ],
)
def test_a_line_is_one_normalised_line(value, expected) -> None:
    assert text.line(value, field="name", max_length=50) == expected


@pytest.mark.parametrize(
    "char", ["\u0000", "\u001b", "\u007f", "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u00ad"]
)
def test_a_line_refuses_control_and_invisible_characters(char) -> None:
    with pytest.raises(ValidationFailed) as refused:
        text.line(f"Volt{char}ara", field="display_name", max_length=50)
    assert refused.value.field == "display_name" and f"U+{ord(char):04X}" in refused.value.message


def test_free_text_keeps_its_lines_and_refuses_bidirectional_controls() -> None:
    assert text.text("Meter cabinet:\r\n\tfuse 3x25A\rphase 3\n", field="notes", max_length=100) == (
        "Meter cabinet:\n\tfuse 3x25A\nphase 3"
    )
    assert text.text("Family \U0001f468\u200d\U0001f469\u200d\U0001f467", field="notes", max_length=100)  # ZWJ emoji
    for char in ("\u202e", "\u200f", "\u0007", "\u0000"):
        with pytest.raises(ValidationFailed):
            text.text(f"a{char}b", field="notes", max_length=100)


def test_lengths_count_after_normalisation() -> None:
    assert text.line("a" + " " * 100 + "b", field="name", max_length=3) == "a b"
    with pytest.raises(ValidationFailed, match="At most 3 characters"):
        text.line("abcd", field="name", max_length=3)
    with pytest.raises(ValidationFailed, match=f"At most {text.MAX_STRING_LENGTH} characters"):
        text.line(" " * (text.MAX_STRING_LENGTH + 1), field="name", max_length=3)
