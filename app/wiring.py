"""Wiring: what each domain plugs into the shared machinery, done by one explicit call.

The status engine finds each entity type's row through an adapter its domain registers
(`app/status/registry.py`); the in-process events (`app/events.py`) reach the handlers the
domains subscribe. Nothing of this happens on import: every entry point calls `wire()` once
before it serves — the API (`app.asgi.create_app`), the CLI (`app.cli.main`), Alembic
(`migrations/env.py`), the tests (`tests/conftest.py`) — so all of them run the same cascades,
and a module nobody imports cannot silently drop a subscriber. `describe()` says what is wired
(`chargecars wiring` prints it; a test compares it across the entry points).
"""

from __future__ import annotations

from app import events
from app.status import registry

_wired = False


def wire() -> None:
    """Register every domain's status adapters and event handlers; a second call does nothing."""
    global _wired
    if _wired:
        return
    from app import idempotency
    from app.commissions import service as commissions
    from app.escalation import service as escalation
    from app.finance import service as finance
    from app.notifications import service as notifications
    from app.operations import quotes, visits, work_orders
    from app.orders import service as orders
    from app.outbox import service as outbox
    from app.partners import service as partners
    from app.tasks import service as tasks

    orders.wire()
    commissions.wire()
    finance.wire()
    outbox.wire()
    partners.wire()
    notifications.wire()
    tasks.wire()
    quotes.wire()
    visits.wire()
    work_orders.wire()
    escalation.wire()
    idempotency.wire()
    _wired = True


def _name(function: object) -> str:
    return f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', '')}"


def describe() -> dict[str, list[str]]:
    """What is wired: the entity types with a status, each event's handlers, the jobs and the
    outbox's consumers."""
    from app.jobs import queue, schedules
    from app.outbox import service as outbox

    return {
        "status entity types": sorted(adapter.entity_type.value for adapter in registry.registered()),
        "schedules": [f"{s.name}: {s.cron}" for s in schedules.registered()],
        "jobs": sorted(f"{name}: {_name(handler)}" for name, handler in queue.handlers().items()),
        "outbox consumers": sorted(_name(consumer) for consumer in outbox.consumers()),
        **{
            f"on {event.__name__}": sorted(_name(h) for h in handlers)
            for event, handlers in sorted(events.subscriptions().items(), key=lambda item: item[0].__name__)
        },
    }
