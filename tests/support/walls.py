"""Visibility's two walls in tests: the application's row conditions (app/access/policy.py) and
the database's row-level security. A test of who sees what runs with both, and with each alone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, true

from app import db
from app.access import policy
from app.contacts.models import Contact

WALLS = ["both", "database only", "application only"]


def knock_down(monkeypatch: pytest.MonkeyPatch, walls: str) -> None:
    """Knock one of the two walls down: each must hold alone."""
    if walls == "database only":
        # the application's row conditions all pass; only row-level security filters
        monkeypatch.setattr(policy, "visible", lambda viewer, model, row=None: true())
        access = policy.contact_access
        monkeypatch.setattr(
            policy,
            "contact_access",
            lambda viewer, contact=Contact: func.greatest(access(viewer, contact), int(policy.Access.NAME)),
        )
    elif walls == "application only":
        monkeypatch.setattr(db, "API_ROLE", "none")  # transactions stay the owner's: no row-level security
