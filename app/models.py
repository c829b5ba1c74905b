"""Every model, imported once so that `Base.metadata` is complete (Alembic, tests)."""

from app.accounts.models import ApiToken, UserAccount
from app.business_entities.models import BusinessEntity
from app.contacts.models import Contact
from app.db import Base

__all__ = ["ApiToken", "Base", "BusinessEntity", "Contact", "UserAccount"]
