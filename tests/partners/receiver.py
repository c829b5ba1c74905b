"""A real HTTP receiver on localhost for webhook tests: answers each request as its script says
(an HTTP status, or "timeout": sleep past the sender's timeout), then 200; keeps every request
and, per event id, the most requests it had under way at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.serving import serving_here


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    script: list[str] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""
    under_way: Counter[str] = field(default_factory=Counter)
    most_at_once: Counter[str] = field(default_factory=Counter)

    async def handle(self, request: Request) -> PlainTextResponse:
        body = await request.body()
        self.received.append(Received(dict(request.headers), body))
        event = request.headers.get("chargecars-event-id", "")
        self.under_way[event] += 1
        self.most_at_once[event] = max(self.most_at_once[event], self.under_way[event])
        try:
            step = self.script.pop(0) if self.script else "200"
            if step == "timeout":
                await asyncio.sleep(30)
            if self.delay:
                await asyncio.sleep(self.delay)
            return PlainTextResponse(f"answer {step}", status_code=int(step) if step != "timeout" else 200)
        finally:
            self.under_way[event] -= 1


@contextlib.asynccontextmanager
async def receiving(**options: object) -> AsyncIterator[Receiver]:
    receiver = Receiver(**options)  # type: ignore[arg-type]
    async with serving_here(Starlette(routes=[Route("/hooks", receiver.handle, methods=["POST"])])) as base:
        receiver.url = f"{base}/hooks"
        yield receiver
