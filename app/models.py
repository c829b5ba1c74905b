"""Every model, imported once so that `Base.metadata` is complete (Alembic, tests). What the
domains plug into the shared machinery is wired by `app.wiring.wire()`, not by importing."""

from app.accounts.models import ApiToken, UserAccount
from app.audit.models import AuditLog
from app.business_entities.models import BusinessEntity
from app.catalog.models import Article
from app.commissions.models import PartnerCommission
from app.contacts.models import Contact
from app.db import Base
from app.finance.models import (
    BankStatement,
    BankStatementEntry,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
)
from app.idempotency import IdempotencyKey
from app.jobs.models import ScheduleRun
from app.notifications.models import Communication, NotificationTemplate
from app.numbering.models import NumberSequence
from app.operations.models import (
    Document,
    InstallationRecord,
    InstallerTeam,
    InstallerTeamMember,
    Quote,
    QuoteChannel,
    QuoteLine,
    SealUsage,
    SiteSurvey,
    Visit,
    VisitInstaller,
    WorkOrder,
    WorkOrderTask,
)
from app.orders.models import LineItem, Order, OrderChannel, OrderHold
from app.outbox.models import OutboxEvent
from app.partners.models import (
    PartnerApiCall,
    PartnerIntegration,
    PartnerOrder,
    PartnerProduct,
    PartnerRateWindow,
    WebhookAttempt,
    WebhookDelivery,
)
from app.status.models import EntityCurrentStatus, StatusTransition, StatusWorkflow, StatusWorkflowStep
from app.tasks.models import InternalTask

__all__ = [
    "IdempotencyKey",
    "WorkOrderTask",
    "WorkOrder",
    "VisitInstaller",
    "Visit",
    "SiteSurvey",
    "SealUsage",
    "QuoteLine",
    "QuoteChannel",
    "Quote",
    "InstallerTeamMember",
    "InstallerTeam",
    "InstallationRecord",
    "Document",
    "ApiToken",
    "Article",
    "AuditLog",
    "Base",
    "BusinessEntity",
    "Communication",
    "Contact",
    "EntityCurrentStatus",
    "BankStatement",
    "BankStatementEntry",
    "InternalTask",
    "Invoice",
    "Payment",
    "PaymentAllocation",
    "InvoiceLine",
    "LineItem",
    "NotificationTemplate",
    "NumberSequence",
    "Order",
    "OrderChannel",
    "OrderHold",
    "OutboxEvent",
    "PartnerApiCall",
    "PartnerCommission",
    "PartnerIntegration",
    "PartnerOrder",
    "PartnerProduct",
    "PartnerRateWindow",
    "ScheduleRun",
    "StatusTransition",
    "StatusWorkflow",
    "StatusWorkflowStep",
    "UserAccount",
    "WebhookAttempt",
    "WebhookDelivery",
]
