"""Reading a GraphQL request off the wire without trusting it.

Everything here is linear in the request and runs before GraphQL sees it: the body is read up
to a size cap (a larger one is refused before it is read); it must be UTF-8; its JSON nesting
is measured on the raw text before the JSON parser runs (Python's parser recurses); numbers of
more than 40 digits and the non-standard NaN/Infinity are refused; the payload must be an
object, or a non-empty list of objects, whose `query` and `operationName` are strings and
whose `variables` and `extensions` are objects. Each refusal is a `BadRequest` with the HTTP
status it deserves (400, 413, 415); the API answers it in the GraphQL error shape
(docs/design.md, "Limits").
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

MAX_JSON_DEPTH: Final = 64
"""Nesting of arrays and objects in a request body (a request needs a handful)."""
MAX_NUMBER_DIGITS: Final = 40

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BadRequest(Exception):
    def __init__(self, status: int, reason: str, *, close: bool = False, code: str = "BAD_REQUEST") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code
        """`extensions.code` of the answer."""
        self.close = close
        """The body was not read to its end: the connection cannot carry another request."""


async def read_body(
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]], headers: dict[bytes, bytes], limit: int
) -> bytes:
    """The whole body, or BadRequest(413) as soon as it is known to exceed `limit` bytes."""
    declared = headers.get(b"content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BadRequest(413, f"The request body is larger than {limit} bytes.", close=True)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest(400, "The client disconnected before the body was complete.", close=True)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BadRequest(413, f"The request body is larger than {limit} bytes.", close=True)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def media_type(content_type: str | None) -> str:
    """`Application/JSON; charset=utf-8` → `application/json` (media types ignore case)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _decimal_number(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS + 8:
        raise ValueError(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    return float(text)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, without parsing it (strings, which
    may hold brackets, are removed first)."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if not brackets:
        return 0
    return max(itertools.accumulate(_DEPTH_STEP[c] for c in brackets))


def decode_json(data: str | bytes) -> Any:
    """Strict JSON: UTF-8, nested at most MAX_JSON_DEPTH deep, numbers of sane length."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(400, f"The request body is not valid UTF-8 (byte {exc.start}).") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(400, f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        return json.loads(data, parse_int=_integer, parse_float=_decimal_number, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError included
        raise BadRequest(400, f"The request body is not valid JSON: {exc}.") from None


_FIELD_TYPES: Final = {"query": str, "operationName": str, "variables": dict, "extensions": dict, "documentId": str}


def check_payload(data: Any) -> list[dict[str, Any]] | dict[str, Any]:
    """`data` if it is one operation (an object) or a batch (a non-empty list of objects) whose
    members have the types GraphQL over HTTP gives them; BadRequest(400) otherwise."""
    items = data if isinstance(data, list) else [data]
    if isinstance(data, list) and not data:
        raise BadRequest(400, "A batch needs at least one operation.")
    for index, item in enumerate(items):
        where = f"Operation {index} of the batch" if isinstance(data, list) else "The request"
        if not isinstance(item, dict):
            raise BadRequest(400, f"{where} must be a JSON object with a `query`.")
        for key, expected in _FIELD_TYPES.items():
            value = item.get(key)
            if value is not None and not isinstance(value, expected):
                kind = "a string" if expected is str else "an object"
                raise BadRequest(400, f"{where}: `{key}` must be {kind} or null.")
    return data
