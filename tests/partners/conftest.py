"""Fixtures of the partner integration tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.partners.support import configure


@pytest.fixture
async def essent(client, sessions, demo, admin_token):
    """A setup for the dealer's organisation, hearing of its orders' creation and status changes
    at the endpoint given, and the dealer's token."""
    contacts, tokens = demo

    async def setup(url: str, **overrides: Any) -> dict[str, Any]:
        return await configure(
            client,
            sessions,
            admin_token,
            contacts["Snellader Service Haren"],
            **{"webhookUrl": url, "events": ["order.created", "order.status_changed"], **overrides},
        )

    return setup, tokens["dealer"]
