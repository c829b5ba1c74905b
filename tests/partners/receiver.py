"""A real HTTP receiver on localhost for webhook tests: answers each request as its script says
(an HTTP status, or "timeout": sleep past the sender's timeout), then 200; keeps every request
and, per event id, the most requests it had under way at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.serving import free_port


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
    port = free_port()
    receiver.url = f"http://127.0.0.1:{port}/hooks"
    app = Starlette(routes=[Route("/hooks", receiver.handle, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # uvicorn says it started through a flag only
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        server.force_exit = True
        await asyncio.wait_for(task, timeout=10)
