"""Settings, read once from the environment. Every variable is listed in the README."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def _floats(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = os.environ.get(name)
    return default if raw in (None, "") else tuple(float(part) for part in raw.split(","))


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() not in ("0", "off", "false", "no")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    """An external PostgreSQL server; when unset the embedded server is used."""
    data_dir: Path
    """Data directory of the embedded PostgreSQL server."""
    database_name: str
    host: str
    port: int
    log_level: str
    workers: int
    """Worker processes `chargecars serve` runs (1: the API in the serving process itself)."""
    max_page_size: int
    max_concurrent_writes: int
    max_query_depth: int
    max_aliases: int
    max_tokens: int
    max_batch_operations: int
    introspection: bool
    max_fields: int = 1000
    """Fields of a document once its fragments are expanded."""
    max_fragments: int = 200
    """Fragment definitions in a document."""
    max_field_merges: int = 5000
    """Pairs of same-named fields in one selection set that validation has to compare."""
    max_body_bytes: int = 1_048_576
    """Largest request body (and GET query string) accepted."""
    sql_count_header: bool = False
    """Answer every request with `X-SQL-Statements` (the benchmark reads it)."""
    job_concurrency: int = 10
    """Jobs one worker process runs at once."""
    job_heartbeat_seconds: float = 30.0
    """A job whose worker stopped beating for this long is picked again by another worker."""
    job_poll_seconds: float = 2.0
    """An idle worker looks for due work at least this often: a job re-queued with a delay (a
    webhook retry) can be due without a notification waking the worker."""
    webhook_timeout_seconds: float = 10.0
    """How long one webhook attempt waits for the partner's answer."""
    webhook_retry_delays: tuple[float, ...] = (60, 300, 900, 3600, 10800, 21600, 43200)
    """Seconds before each retry of a failed webhook (each ±20 %), so one attempt more than
    there are delays: eight attempts over about 22 hours, then the delivery is dead-lettered."""
    partner_rate_limit: int = 120
    """Calls per minute a partner organisation without an integration of its own may make (a
    configured one has its own limit)."""
    smtp_host: str = "127.0.0.1"
    """The mail server notifications go through (`chargecars run` starts the local mailbox on it
    when it is this machine)."""
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"
    """`none`, `starttls` or `tls` (implicit TLS)."""
    smtp_timeout_seconds: float = 30.0
    mail_from: str = "ChargeCars <noreply@chargecars.nl>"
    """The sender when a brand has no e-mail address of its own."""
    mailbox_dir: Path = Path(".mailbox")
    """Where `chargecars mailbox` keeps what it receives (a Maildir)."""
    sla_monitor_cron: str = "0 * * * *"
    documents_dir: Path = Path(".documents")
    """Where uploaded documents' bytes are kept (one file per document)."""
    max_upload_bytes: int = 10 * 1_048_576
    """The largest document accepted; a multipart request may be this much larger than the body cap."""
    """When the SLA monitor runs (cron; every hour on the hour)."""
    notification_retry_delays: tuple[float, ...] = (60, 300, 900, 3600, 10800, 21600)
    """Seconds before each retry of a message the mail server did not take (each ±20 %); after
    the last the message is marked failed."""

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=Path(os.environ.get("CHARGECARS_DATA_DIR", ".pgdata")).resolve(),
            database_name=os.environ.get("CHARGECARS_DB_NAME", "chargecars"),
            host=os.environ.get("CHARGECARS_HOST", "127.0.0.1"),
            port=_int("CHARGECARS_PORT", 8000),
            log_level=os.environ.get("CHARGECARS_LOG_LEVEL", "info"),
            workers=_int("CHARGECARS_WORKERS", 1),
            max_page_size=_int("CHARGECARS_MAX_PAGE_SIZE", 100),
            max_concurrent_writes=_int("CHARGECARS_MAX_CONCURRENT_WRITES", 8),
            max_query_depth=_int("CHARGECARS_MAX_QUERY_DEPTH", 15),
            max_aliases=_int("CHARGECARS_MAX_ALIASES", 30),
            max_tokens=_int("CHARGECARS_MAX_TOKENS", 5000),
            max_batch_operations=_int("CHARGECARS_MAX_BATCH_OPERATIONS", 10),
            introspection=_flag("CHARGECARS_INTROSPECTION", True),
            max_fields=_int("CHARGECARS_MAX_FIELDS", 1000),
            max_fragments=_int("CHARGECARS_MAX_FRAGMENTS", 200),
            max_field_merges=_int("CHARGECARS_MAX_FIELD_MERGES", 5000),
            max_body_bytes=_int("CHARGECARS_MAX_BODY_BYTES", 1_048_576),
            sql_count_header=_flag("CHARGECARS_SQL_COUNT_HEADER", False),
            job_concurrency=_int("CHARGECARS_JOB_CONCURRENCY", 10),
            job_heartbeat_seconds=_float("CHARGECARS_JOB_HEARTBEAT_SECONDS", 30.0),
            job_poll_seconds=_float("CHARGECARS_JOB_POLL_SECONDS", 2.0),
            webhook_timeout_seconds=_float("CHARGECARS_WEBHOOK_TIMEOUT_SECONDS", 10.0),
            webhook_retry_delays=_floats("CHARGECARS_WEBHOOK_RETRY_DELAYS", (60, 300, 900, 3600, 10800, 21600, 43200)),
            partner_rate_limit=_int("CHARGECARS_PARTNER_RATE_LIMIT", 120),
            smtp_host=os.environ.get("CHARGECARS_SMTP_HOST") or "127.0.0.1",
            smtp_port=_int("CHARGECARS_SMTP_PORT", 1025),
            smtp_username=os.environ.get("CHARGECARS_SMTP_USERNAME") or None,
            smtp_password=os.environ.get("CHARGECARS_SMTP_PASSWORD") or None,
            smtp_security=os.environ.get("CHARGECARS_SMTP_SECURITY") or "none",
            smtp_timeout_seconds=_float("CHARGECARS_SMTP_TIMEOUT_SECONDS", 30.0),
            mail_from=os.environ.get("CHARGECARS_MAIL_FROM") or "ChargeCars <noreply@chargecars.nl>",
            mailbox_dir=Path(os.environ.get("CHARGECARS_MAILBOX_DIR", ".mailbox")).resolve(),
            sla_monitor_cron=os.environ.get("CHARGECARS_SLA_MONITOR_CRON") or "0 * * * *",
            documents_dir=Path(os.environ.get("CHARGECARS_DOCUMENTS_DIR", ".documents")).resolve(),
            max_upload_bytes=_int("CHARGECARS_MAX_UPLOAD_BYTES", 10 * 1_048_576),
            notification_retry_delays=_floats(
                "CHARGECARS_NOTIFICATION_RETRY_DELAYS", (60, 300, 900, 3600, 10800, 21600)
            ),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
