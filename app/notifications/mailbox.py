"""`chargecars mailbox`: a real SMTP server on this machine that keeps what it receives, for
developers and tests (docs/notifications.md, "The mailbox").

`chargecars run` starts it when the mail server of the settings is this machine, so the demo's
messages arrive somewhere a new user can read them: `chargecars mailbox` lists them,
`chargecars mailbox --show N` prints one. Messages are kept as a Maildir
(`CHARGECARS_MAILBOX_DIR`, `.mailbox`), one file each.
"""

from __future__ import annotations

import asyncio
import mailbox as maildir
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from pathlib import Path

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP


@asynccontextmanager
async def listening(directory: Path, host: str, port: int) -> AsyncIterator[asyncio.Server]:
    """The SMTP server on `host:port` in this event loop until the block ends."""
    handler = Mailbox(directory)  # a Maildir, made when missing
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="chargecars-mailbox"), host, port)
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


async def serve(directory: Path, host: str, port: int) -> None:
    """Until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with listening(directory, host, port):
        await stop.wait()


@dataclass(frozen=True, slots=True)
class Received:
    key: str
    date: str
    sender: str
    recipient: str
    subject: str
    message: Message

    @property
    def text(self) -> str:
        """The plain-text body."""
        parsed = self.message
        if isinstance(parsed, EmailMessage):
            part = parsed.get_body(preferencelist=("plain",))
            if part is not None:
                return str(part.get_content())
        return str(parsed.get_payload())


def received(directory: Path) -> list[Received]:
    """What the mailbox holds, oldest first."""
    if not directory.exists():
        return []
    box = maildir.Maildir(str(directory), factory=None, create=False)
    found = []
    for key in box.keys():
        message = message_from_bytes(box.get_bytes(key), policy=default)
        found.append(
            Received(
                key=key,
                date=str(message.get("Date", "")),
                sender=str(message.get("From", "")),
                recipient=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                message=message,
            )
        )
    return sorted(found, key=lambda m: (m.key.split(".")[0], m.key))
