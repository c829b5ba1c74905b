"""Role checks for fields. A refusal is a GraphQL error with code FORBIDDEN."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from app.accounts.models import Role
from graphql_schema.errors import RequestErrorCode


class _HasRole(BasePermission):
    roles: frozenset[Role] = frozenset()
    message = "You do not have permission to do this."
    error_extensions = {"code": RequestErrorCode.FORBIDDEN.value}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return info.context.has_role(*self.roles)


class IsAdmin(_HasRole):
    roles = frozenset({Role.ADMIN})


class IsStaffEditor(_HasRole):
    """Contacts and order lines are written by staff (admin, staff)."""

    roles = frozenset({Role.ADMIN, Role.STAFF})


class CanChangeStatus(_HasRole):
    """Statuses are changed by staff; which steps each may take is the workflow's business."""

    roles = frozenset({Role.ADMIN, Role.STAFF, Role.FINANCE})


class IsStaff(_HasRole):
    """Internal figures (a brand's financial summary) are for staff roles."""

    roles = frozenset({Role.ADMIN, Role.STAFF, Role.FINANCE})


class IsFinance(_HasRole):
    """Invoices and credit notes are issued by finance (and admins)."""

    roles = frozenset({Role.ADMIN, Role.FINANCE})


class CanCreateOrders(_HasRole):
    """Staff create any order; partners only those with their organisation in the chain
    (checked by the orders service)."""

    roles = frozenset({Role.ADMIN, Role.STAFF, Role.PARTNER})


class IsPartner(_HasRole):
    """Partner intake is for partners' tokens (the organisation is the token's)."""

    roles = frozenset({Role.PARTNER})


class IsSignedIn(BasePermission):
    """Any account (what it may do is the service's and the visibility policy's business)."""

    message = "Sign in to do this."
    error_extensions = {"code": RequestErrorCode.UNAUTHENTICATED.value}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return info.context.principal is not None


class IsStaffOrPartner(_HasRole):
    """Installer figures: staff see every installer, a partner those in its scope."""

    roles = frozenset({Role.ADMIN, Role.STAFF, Role.FINANCE, Role.PARTNER})
