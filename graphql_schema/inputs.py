"""The input policy for values, before anything resolves.

Every value a request carries, in its variables or as a literal in the document, is walked
once before execution (linear in the request) and refused with BAD_USER_INPUT, naming where it
is, when it holds:
- a string with a NUL character or a lone surrogate (neither can be stored or encoded), or
  longer than `app.text.MAX_STRING_LENGTH` characters;
- a list longer than the largest page (`CHARGECARS_MAX_PAGE_SIZE`): no list argument needs more;
- a number literal longer than 40 characters (Python refuses to convert past 4,300 digits,
  and no field takes such a number).

Per-field rules (which characters a name may hold, its length) are the domain's
(`app/text.py`). The `Decimal` scalar accepts only plain ASCII decimal notation, finite and of
sane magnitude; each field's own range is checked by its domain before any SQL.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import re
from collections.abc import Callable, Iterator
from typing import Any, Final, cast

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    FloatValueNode,
    GraphQLError,
    IntValueNode,
    ListValueNode,
    Node,
    ObjectFieldNode,
    StringValueNode,
)
from graphql.language import Visitor, visit
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from app.keep import KEEP
from app.text import MAX_STRING_LENGTH
from graphql_schema.errors import bad_input

MAX_NUMBER_LITERAL: Final = 40


class InputRefused(ValueError):
    """A scalar refused a value: the client's mistake (BAD_USER_INPUT), not the server's."""


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _string_problem(value: str) -> str | None:
    if len(value) > MAX_STRING_LENGTH:
        return f"is longer than {MAX_STRING_LENGTH} characters"
    found = _UNSTORABLE.search(value)
    if found is not None:
        char = found.group()
        return "contains a NUL character" if char == "\x00" else f"contains a lone surrogate (U+{ord(char):04X})"
    return None


def _variable_problems(value: Any, path: str, max_list: int) -> Iterator[str]:
    """Problems in one variable's JSON value; depth is bounded by the body's nesting cap."""
    if isinstance(value, str):
        problem = _string_problem(value)
        if problem:
            yield f"`{path}` {problem}."
    elif isinstance(value, list):
        if len(value) > max_list:
            yield f"`{path}` has {len(value)} items; at most {max_list} are accepted."
            return
        for index, item in enumerate(value):
            yield from _variable_problems(item, f"{path}[{index}]", max_list)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _string_problem(key)
            if problem:
                yield f"A key in `{path}` {problem}."
                return
            yield from _variable_problems(item, f"{path}.{key}", max_list)


class _Literals(Visitor):
    """Collects the problems of the values written in the document, with the argument path."""

    def __init__(self, max_list: int) -> None:
        super().__init__()
        self.max_list = max_list
        self.path: list[str] = []
        self.errors: list[GraphQLError] = []

    def _refuse(self, node: Node, problem: str) -> None:
        where = f"`{'.'.join(self.path)}`" if self.path else "A value"
        self.errors.append(bad_input(f"{where} {problem}.", node))

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_argument(self, *_: Any) -> None:
        self.path.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_object_field(self, *_: Any) -> None:
        self.path.pop()

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        problem = _string_problem(node.value)
        if problem:
            self._refuse(node, problem)

    def enter_int_value(self, node: IntValueNode, *_: Any) -> None:
        self._number(node)

    def enter_float_value(self, node: FloatValueNode, *_: Any) -> None:
        self._number(node)

    def _number(self, node: IntValueNode | FloatValueNode) -> None:
        if len(node.value) > MAX_NUMBER_LITERAL:
            self._refuse(node, f"is a number of more than {MAX_NUMBER_LITERAL} characters")

    def enter_list_value(self, node: ListValueNode, *_: Any) -> None:
        if len(node.values) > self.max_list:
            self._refuse(node, f"has {len(node.values)} items; at most {self.max_list} are accepted")


def check_literals(document: DocumentNode, *, max_list: int) -> list[GraphQLError]:
    """BAD_USER_INPUT errors for every unacceptable value written in the document."""
    literals = _Literals(max_list)
    visit(document, literals)
    return literals.errors


def check_variables(variables: dict[str, Any] | None, *, max_list: int) -> list[GraphQLError]:
    """BAD_USER_INPUT errors for every unacceptable value among the variables."""
    return [
        bad_input(problem)
        for name, value in (variables or {}).items()
        for problem in _variable_problems(value, f"${name}", max_list)
    ]


# --- the Decimal scalar ------------------------------------------------------------------------

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_LARGEST_EXPONENT: Final = 15
"""Values below 10^15 (no amount, quantity or rate comes near)."""
_SMALLEST_EXPONENT: Final = -12
"""At most 12 decimal places (fields take 2 to 4)."""


def parse_decimal(value: object) -> decimal.Decimal:
    """A string (or JSON number) in plain or exponent notation with ASCII digits: finite, below
    10^15 and with at most 12 decimal places. Grouping (`1_000`), other digits (`١٢`), NaN and
    Infinity are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputRefused('A decimal is a string such as "12.50".')
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_NUMBER_LITERAL or not _DECIMAL.fullmatch(text):
        raise InputRefused(
            'A decimal is written with ASCII digits, an optional sign, point and exponent ("12.50", "1e3").'
        )
    number = decimal.Decimal(text)
    exponent = number.as_tuple().exponent  # an int: NaN and Infinity were refused above
    if number and (number.adjusted() >= _LARGEST_EXPONENT or cast(int, exponent) < _SMALLEST_EXPONENT):
        raise InputRefused(
            f"A decimal lies below 10^{_LARGEST_EXPONENT} with at most {-_SMALLEST_EXPONENT} decimal places."
        )
    return number


DECIMAL = ScalarDefinition(
    name="Decimal",
    description=(
        "An exact decimal number as a string: ASCII digits with an optional sign, decimal point and "
        'exponent ("12.50", "-3", "1e3"); below 10^15, at most 12 decimal places, no NaN or Infinity.'
    ),
    specified_by_url=None,
    serialize=str,
    parse_value=parse_decimal,
    parse_literal=None,
    origin=decimal.Decimal,
)


# --- dates and times ---------------------------------------------------------------------------

EARLIEST_YEAR: Final = 1900
LATEST_YEAR: Final = 2999
"""Dates and times outside these years are refused: none is meant, and at the edges of
Python's range (years 1 and 9999) a change of time zone overflows."""


def _within_years(parse: Callable[[object], Any], kind: str) -> Callable[[object], Any]:
    def parse_within(value: object) -> Any:
        parsed = parse(value)
        if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
            raise InputRefused(f"A {kind} lies in the years {EARLIEST_YEAR} to {LATEST_YEAR}.")
        return parsed

    return parse_within


def _parser(definition: ScalarDefinition) -> Callable[[object], Any]:
    """The parse function of one of Strawberry's own scalars (each has one)."""
    assert definition.parse_value is not None
    return definition.parse_value


def _parse_datetime(value: object) -> datetime.datetime:
    parsed: datetime.datetime = _parser(DateTimeDefinition)(value)
    return parsed


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


DATE = dataclasses.replace(
    DateDefinition,
    description=f"A calendar date, ISO 8601 (`2026-11-23`), in the years {EARLIEST_YEAR} to {LATEST_YEAR}.",
    parse_value=_within_years(_parser(DateDefinition), "date"),
)
DATETIME = dataclasses.replace(
    DateTimeDefinition,
    description=(
        f"A date with time, ISO 8601 (`2026-11-23T14:30:00+01:00`; without an offset it is UTC), in the years "
        f"{EARLIEST_YEAR} to {LATEST_YEAR}."
    ),
    parse_value=_within_years(lambda value: _aware(_parse_datetime(value)), "date and time"),
)


# --- descriptions that state the domain's limits --------------------------------------------


def line_field(max_length: int, description: str = "", **kwargs: Any) -> Any:
    """An input field holding one line of text (`app.text.line`), described with its limit."""
    return strawberry.field(
        description=_described(description, f"One line, at most {max_length} characters."), **kwargs
    )


def text_field(max_length: int, description: str = "", **kwargs: Any) -> Any:
    """An input field holding free text (`app.text.text`), described with its limit."""
    return strawberry.field(
        description=_described(description, f"Free text (line breaks kept), at most {max_length} characters."), **kwargs
    )


def _described(description: str, limit: str) -> str:
    return f"{description} {limit}" if description else limit


def keep_or(value: Any, convert: Callable[[Any], Any] = lambda v: v) -> Any:
    """An update input's field as the service takes it: absent keeps (KEEP), else converted
    (null clears where the field allows it)."""
    return KEEP if value is strawberry.UNSET else convert(value)
