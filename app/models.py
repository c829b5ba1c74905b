"""Every model, imported once so that `Base.metadata` is complete (Alembic, tests), and every
domain's in-process event subscriptions (app/events.py), so that the API, the CLI and the tests
run the same cascades."""

from app.accounts.models import ApiToken, UserAccount
from app.audit.models import AuditLog
from app.business_entities.models import BusinessEntity
from app.catalog.models import Article
from app.commissions import service as _commission_cascade  # noqa: F401  (subscribes to order events)
from app.commissions.models import PartnerCommission
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
    "PartnerCommission",
    "StatusTransition",
    "StatusWorkflow",
    "StatusWorkflowStep",
    "UserAccount",
]
