"""Every model, imported once so that `Base.metadata` is complete (Alembic, tests)."""

from app.accounts.models import ApiToken, UserAccount
from app.audit.models import AuditLog
from app.business_entities.models import BusinessEntity
from app.catalog.models import Article
from app.contacts.models import Contact
from app.db import Base
from app.numbering.models import NumberSequence
from app.orders.models import LineItem, Order, OrderChannel, OrderHold
from app.status.models import EntityCurrentStatus, StatusTransition, StatusWorkflow, StatusWorkflowStep

__all__ = [
    "ApiToken",
    "Article",
    "AuditLog",
    "Base",
    "BusinessEntity",
    "Contact",
    "EntityCurrentStatus",
    "LineItem",
    "NumberSequence",
    "Order",
    "OrderChannel",
    "OrderHold",
    "StatusTransition",
    "StatusWorkflow",
    "StatusWorkflowStep",
    "UserAccount",
]
