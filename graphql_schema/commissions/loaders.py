"""Commission loaders, read through the visibility policy (`app/access/policy.py`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from app.commissions import service
from app.commissions.models import PartnerCommission
from app.commissions.service import CommissionFilter
from graphql_schema.loaders import ContextLoader


class CommissionByIdLoader(ContextLoader[uuid.UUID, PartnerCommission | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[PartnerCommission | None]:
        async with self.context.db() as session:
            found = await service.get_many(session=session, ids=keys, viewer=self.context.viewer)
        return [found.get(key) for key in keys]


class CommissionsByOrderIdLoader(ContextLoader[uuid.UUID, list[PartnerCommission]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[PartnerCommission]]:
        async with self.context.db() as session:
            found = await service.of_orders_many(session=session, order_ids=keys, viewer=self.context.viewer)
        return [found.get(key, []) for key in keys]


BeneficiaryKey = tuple[uuid.UUID, CommissionFilter]


class CommissionsByBeneficiaryLoader(ContextLoader[BeneficiaryKey, list[PartnerCommission]]):
    """Keyed by (contact, filter): one statement per distinct filter in the batch (usually one)."""

    async def batch_load_fn(self, keys: Sequence[BeneficiaryKey]) -> list[list[PartnerCommission]]:
        by_filter: dict[CommissionFilter, list[uuid.UUID]] = defaultdict(list)
        for contact_id, filter_in in keys:
            by_filter[filter_in].append(contact_id)
        found: dict[BeneficiaryKey, list[PartnerCommission]] = {}
        async with self.context.db() as session:
            for filter_in, contact_ids in by_filter.items():
                rows = await service.of_beneficiaries_many(
                    session=session, contact_ids=contact_ids, filter_in=filter_in, viewer=self.context.viewer
                )
                found.update(((contact_id, filter_in), rows.get(contact_id, [])) for contact_id in contact_ids)
        return [found[key] for key in keys]
