"""Settings, read once from the environment and a `.env` file (pydantic-settings). Every variable
is listed in the README. A value that does not fit is refused at start with the variable's name
and what it accepts (`SettingsError`), never guessed."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "CHARGECARS_"

Seconds = Annotated[float, Field(gt=0)]
Delays = Annotated[tuple[float, ...], NoDecode]
"""Comma-separated seconds in the environment (`60,300,900`)."""


class SettingsError(Exception):
    """Settings that cannot be used: one line per variable, naming it and what it accepts."""


class Settings(BaseSettings):
    """The settings of every `chargecars` process. The environment wins over `.env` (in the
    working directory), which wins over the defaults; `model_copy(update=…)` derives a variant
    (the tests)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        frozen=True,
        validate_default=True,
        validate_by_name=True,
    )

    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    """An external PostgreSQL server; when unset the embedded server is used."""
    database_pooler: Literal["none", "transaction"] = "none"
    """`transaction` when DATABASE_URL leads to a transaction-mode pooler (PgBouncer)."""
    data_dir: Path = Path(".pgdata")
    """Data directory of the embedded PostgreSQL server."""
    database_name: str = Field(default="chargecars", validation_alias=AliasChoices("CHARGECARS_DB_NAME"))
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    """`json` (one JSON object a line), `console` (for people), `auto`: console on a terminal."""
    metrics_token: str | None = None
    """A bearer token `/metrics` asks for; without one it answers clients on this machine only."""
    tracing: bool = False
    """OpenTelemetry traces of requests, GraphQL operations and SQL, exported over OTLP
    (`OTEL_EXPORTER_OTLP_ENDPOINT`, …); off: nothing of it is loaded."""
    workers: int = Field(default=1, ge=1)
    """Worker processes `chargecars serve` runs (1: the API in the serving process itself)."""
    max_page_size: int = Field(default=100, ge=1)
    max_concurrent_writes: int = Field(default=8, ge=1)
    max_query_depth: int = Field(default=15, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=5000, ge=1)
    max_batch_operations: int = Field(default=10, ge=1)
    introspection: bool = True
    trusted_documents: Path | None = None
    """A manifest of registered documents (`chargecars trusted-documents`): partner and customer
    tokens then run those only; staff keep free queries."""
    max_query_cost: int = Field(default=200_000, ge=1)
    """The largest estimated cost of an operation (`graphql_schema/cost.py`): the frontend's
    order tree (bench/queries) is 25,351 for a page of 50 orders, 50,701 for 100; an order page
    of 100 with every relation of the schema (tests/orders/test_n_plus_one.py) 145,701."""
    max_fields: int = Field(default=1000, ge=1)
    """Fields of a document once its fragments are expanded."""
    max_fragments: int = Field(default=200, ge=0)
    """Fragment definitions in a document."""
    max_field_merges: int = Field(default=5000, ge=1)
    """Pairs of same-named fields in one selection set that validation has to compare."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Largest request body (and GET query string) accepted."""
    max_active_requests: int = Field(default=4, ge=0)
    """API requests one worker process runs at once; more wait in its queue (0: no admission
    control, every request runs at once and waits for a pooled connection instead)."""
    max_queued_requests: int = Field(default=16, ge=0)
    """Requests one worker keeps waiting for a turn; beyond that a request is refused at once
    with 503 and `Retry-After`."""
    queue_timeout_seconds: Seconds = 10.0
    """A request that waited this long in the queue is refused (503) rather than run late."""
    graphiql_assets_url: str = "https://unpkg.com"
    """Where GraphiQL's assets come from (the CDN's layout: `react@18.2.0/umd/…`)."""
    graphiql_assets_dir: Path | None = None
    """A copy of GraphiQL's assets (`chargecars graphiql-assets DIR`), served by the API itself
    (for machines without the CDN)."""
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    """Browser origins (`https://portal.example.nl`, comma-separated) whose pages may call the
    API; none by default. `*` allows any origin (tokens are headers, never cookies)."""
    read_connections: int = Field(default=3, ge=1)
    """Connections one request may read on at once: the batches an order page loads together run
    side by side (docs/design.md, "Data access per request"); 1 reads one statement at a time."""
    statement_timeout_ms: int = Field(default=30_000, ge=0)
    """A request's SQL statement running longer than this is cancelled and the request answered
    SERVICE_UNAVAILABLE (0: no limit); jobs and the CLI are not limited."""
    sql_count_header: bool = False
    """Answer every request with `X-SQL-Statements` (the benchmark reads it)."""
    job_concurrency: int = Field(default=10, ge=1)
    """Jobs one worker process runs at once."""
    job_heartbeat_seconds: Seconds = 30.0
    """A job whose worker stopped beating for this long is picked again by another worker."""
    job_poll_seconds: Seconds = 2.0
    """An idle worker looks for due work at least this often: a job re-queued with a delay (a
    webhook retry) can be due without a notification waking the worker."""
    webhook_timeout_seconds: Seconds = 10.0
    """How long one webhook attempt waits for the partner's answer."""
    webhook_retry_delays: Delays = (60, 300, 900, 3600, 10800, 21600, 43200)
    """Seconds before each retry of a failed webhook (each ±20 %), so one attempt more than
    there are delays: eight attempts over about 22 hours, then the delivery is dead-lettered."""
    partner_rate_limit: int = Field(default=120, ge=1)
    """Calls per minute a partner organisation without an integration of its own may make (a
    configured one has its own limit)."""
    smtp_host: str = "127.0.0.1"
    """The mail server notifications go through (`chargecars run` starts the local mailbox on it
    when it is this machine)."""
    smtp_port: int = Field(default=1025, ge=0, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    """`none`, `starttls` or `tls` (implicit TLS)."""
    smtp_timeout_seconds: Seconds = 30.0
    mail_from: str = "ChargeCars <noreply@chargecars.nl>"
    """The sender when a brand has no e-mail address of its own."""
    mailbox_dir: Path = Path(".mailbox")
    """Where `chargecars mailbox` keeps what it receives (a Maildir)."""
    sla_monitor_cron: str = "0 * * * *"
    """When the SLA monitor runs (cron; every hour on the hour)."""
    documents_dir: Path = Path(".documents")
    """Where uploaded documents' bytes are kept (one file per document)."""
    max_upload_bytes: int = Field(default=10 * 1_048_576, ge=1024)
    """The largest document accepted; a multipart request may be this much larger than the body cap."""
    notification_retry_delays: Delays = (60, 300, 900, 3600, 10800, 21600)
    """Seconds before each retry of a message the mail server did not take (each ±20 %); after
    the last the message is marked failed."""

    @field_validator(
        "database_url",
        "smtp_username",
        "smtp_password",
        "metrics_token",
        "graphiql_assets_dir",
        "trusted_documents",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("data_dir", "mailbox_dir", "documents_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    @field_validator("graphiql_assets_dir")
    @classmethod
    def _assets_there(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("not a directory: fetch the assets with `chargecars graphiql-assets DIR`")
        return value.resolve() if value is not None else None

    @field_validator("trusted_documents")
    @classmethod
    def _manifest_readable(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        import json

        try:
            manifest = json.loads(value.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"not a readable manifest of trusted documents: {exc}") from None
        if not isinstance(manifest, dict):
            raise ValueError("a manifest of trusted documents is a JSON object of ids to documents")
        return value.resolve()

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _valid_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme and host (and port), such as https://portal.example.nl"
                )
        return value

    @field_validator("webhook_retry_delays", "notification_retry_delays", mode="before")
    @classmethod
    def _delays(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("webhook_retry_delays", "notification_retry_delays")
    @classmethod
    def _positive_delays(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(delay <= 0 for delay in value):
            raise ValueError("give one or more positive numbers of seconds, comma-separated")
        return value

    @field_validator("log_level", "log_format", "smtp_security", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("sla_monitor_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError("give a cron expression of five fields, such as `0 * * * *`")
        return value

    @classmethod
    def from_env(cls) -> Settings:
        """The settings from the environment and `.env`; SettingsError naming each variable that
        does not fit."""
        try:
            return cls()
        except ValidationError as exc:
            raise SettingsError(_explained(exc)) from None


def variable(field: str) -> str:
    """The environment variable that sets `field`."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{ENV_PREFIX}{field.upper()}"


def _explained(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        name = variable(field) if field in Settings.model_fields else field
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "bool_parsing":
            message += " (on/off, true/false, yes/no or 1/0)"
        lines.append(f"{name}={error.get('input')!r}: {message}")
    return "invalid settings:\n  " + "\n  ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
