"""The channels a message goes out through (docs/notifications.md, "Channels").

A channel takes a rendered message and answers the provider's message id, or raises
`SendFailed` saying whether trying again may help. E-mail goes through SMTP (aiosmtplib) to the
server of the settings; an SMS or WhatsApp provider is another class with the same `send`, added
to `channel_for`, and nothing that calls it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Final, Protocol

import aiosmtplib

from app.config import Settings

EMAIL: Final = "email"
CHANNELS: Final = (EMAIL,)


@dataclass(frozen=True, slots=True)
class Outgoing:
    message_id: str
    """Stable across retries (`<communication id@domain>`): receivers can drop duplicates."""
    sender: str
    recipient: str
    subject: str
    text: str
    html: str | None


class SendFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        """The provider refused for good (an unknown mailbox): retrying will not help."""


class Channel(Protocol):
    name: str

    async def send(self, message: Outgoing) -> str: ...


class EmailChannel:
    name = EMAIL

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: Outgoing) -> str:
        mail = EmailMessage()
        mail["From"] = message.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Message-ID"] = message.message_id
        mail["Date"] = formatdate(localtime=True)
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        settings = self.settings
        try:
            await aiosmtplib.send(
                mail,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                use_tls=settings.smtp_security == "tls",
                start_tls=True if settings.smtp_security == "starttls" else False,
                timeout=settings.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            permanent = all(refused.code >= 500 for refused in exc.recipients)
            raise SendFailed(f"recipient refused: SMTP {first.code}: {first.message}", permanent=permanent) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailed(f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}", permanent=False) from None
        return message.message_id


def channel_for(name: str, settings: Settings) -> Channel:
    if name == EMAIL:
        return EmailChannel(settings)
    raise LookupError(f"no channel {name!r}")
