"""The runs of scheduled jobs (PgQueuer keeps the schedules; this keeps what each run did)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class ScheduleRun(Base):
    __tablename__ = "schedule_run"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(20))
    """ok or failed; null while it runs (or when its worker died during it)."""
    detail: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_schedule_run_name_started", "name", "started_at"),)
