"""Fixtures of the notification tests: a real SMTP server on localhost, and worker settings
that mail to it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from app.notifications import mailbox
from app.serving import free_port


@dataclasses.dataclass
class MailServer:
    directory: Path
    port: int

    def received(self) -> list[mailbox.Received]:
        return mailbox.received(self.directory)

    @contextlib.asynccontextmanager
    async def running(self, handler: Any = None) -> AsyncIterator[None]:
        if handler is None:
            async with mailbox.listening(self.directory, "127.0.0.1", self.port):
                yield
            return
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", self.port)
        try:
            yield
        finally:
            server.close()
            await server.wait_closed()


@pytest.fixture
def mail(tmp_path: Path) -> MailServer:
    return MailServer(tmp_path / "mailbox", free_port())


@pytest.fixture
def mailing(settings, mail):
    """The settings of a worker that mails to the test's server."""
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": mail.port, "mailbox_dir": mail.directory})
