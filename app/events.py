"""In-process domain events.

Handlers run inside the transaction that published the event, so what they write commits or
rolls back with the change that caused it (commissions, notifications, partner sync).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

E = TypeVar("E")
Handler = Callable[[AsyncSession, Any], Awaitable[None]]

_handlers: dict[type, list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
    """Call `handler` for each published event of this type (once, however often subscribed)."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def subscriptions() -> dict[type, list[Handler]]:
    """Each event type's handlers, in the order they run."""
    return {event_type: list(handlers) for event_type, handlers in _handlers.items() if handlers}


def unsubscribe(event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
    _handlers[event_type].remove(handler)


async def publish(session: AsyncSession, event: object) -> None:
    for handler in list(_handlers[type(event)]):
        await handler(session, event)
