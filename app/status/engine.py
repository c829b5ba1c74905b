"""The status engine: every status change of every entity type goes through `change_status`.

In the caller's transaction it locks the entity's row, reads its current status, checks the move
against the workflow (allowed transitions, final steps, the approval role), writes the
transition, updates the current-status cache and the entity's own status and `updated_at`,
writes the audit log and publishes a `StatusChanged` event. The caller commits.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, Text, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, text
from app.accounts.models import Role
from app.audit.service import Actor, record
from app.db import any_of, any_of_ids, by_keys, columns, read
from app.errors import NotFound
from app.status.errors import ApprovalRequired, FinalStatus, InvalidStatusTransition, NoWorkflow, StatusConflict
from app.status.models import (
    EntityCurrentStatus,
    Movement,
    StatusTransition,
    StatusWorkflow,
    StatusWorkflowStep,
    StepType,
)
from app.status.registry import EntityAdapter, adapter_for

PASSED_THROUGH = "passed_through"
"""Transition metadata of a step walked through by `advance` (the step's notifications are not sent)."""


class Purpose(enum.Enum):
    CHANGE = "change"
    HOLD = "hold"
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class StatusChanged:
    entity_type: str
    entity_id: uuid.UUID
    business_entity_id: uuid.UUID | None
    workflow_id: uuid.UUID
    from_status: str | None
    to_status: str
    movement: Movement
    transition_id: uuid.UUID
    actor: Actor
    to_step: StatusWorkflowStep = field(repr=False)
    passed_through: bool = False
    """A step an entity walked through on its way further in the same change (`advance`): it
    is in the history, but nobody is told it was reached."""


@dataclass(frozen=True, slots=True)
class Workflow:
    """A workflow with its steps, as the engine reasons about it."""

    row: StatusWorkflow
    steps: dict[str, StatusWorkflowStep]

    @property
    def main_path(self) -> list[StatusWorkflowStep]:
        return sorted((s for s in self.steps.values() if s.step_type is StepType.NORMAL), key=lambda s: s.step_order)

    @property
    def first_step(self) -> StatusWorkflowStep:
        return self.main_path[0]

    @property
    def hold_step(self) -> StatusWorkflowStep | None:
        return next((s for s in self.steps.values() if s.step_type is StepType.HOLD), None)

    @property
    def exit_step(self) -> StatusWorkflowStep | None:
        return next((s for s in self.steps.values() if s.step_type is StepType.EXIT), None)


def may_approve(actor: Actor, step: StatusWorkflowStep) -> bool:
    """Admins and system processes may take any step; others need the step's approval role."""
    if not step.requires_approval or actor.system is not None or Role.ADMIN in actor.roles:
        return True
    return step.approval_role in actor.roles


def workflow_targets(workflow: Workflow, status: str) -> list[StatusWorkflowStep]:
    """The steps the workflow allows from `status`, in step order (none from final or hold)."""
    current = workflow.steps.get(status)
    if current is None or current.is_final or current.step_type is StepType.HOLD:
        return []
    targets = (workflow.steps[name] for name in current.allowed_transitions if name in workflow.steps)
    return sorted(targets, key=lambda s: s.step_order)


def allowed_targets(workflow: Workflow, status: str, roles: frozenset[str]) -> list[StatusWorkflowStep]:
    """The workflow's targets that a viewer with these roles may take (approval applied)."""
    actor = Actor(account_id=None, roles=roles)
    return [s for s in workflow_targets(workflow, status) if may_approve(actor, s)]


def movement_of(workflow: Workflow, from_step: StatusWorkflowStep | None, to_step: StatusWorkflowStep) -> Movement:
    """Forward, skip, backward or restart along the main path (as a production board reads it)."""
    if from_step is None:
        return Movement.INITIAL
    if to_step.step_type is StepType.HOLD:
        return Movement.HOLD
    if from_step.step_type is StepType.HOLD:
        return Movement.RESUME
    if to_step.step_type is StepType.EXIT:
        return Movement.EXIT
    orders = [s.step_order for s in workflow.main_path]
    if to_step.step_order > from_step.step_order:
        between = [o for o in orders if from_step.step_order < o < to_step.step_order]
        return Movement.SKIP if between else Movement.FORWARD
    if to_step.step_order == orders[0]:
        return Movement.RESTART
    return Movement.BACKWARD


async def load_workflow(*, session: AsyncSession, workflow_id: uuid.UUID) -> Workflow:
    row = await session.get(StatusWorkflow, workflow_id)
    if row is None:
        raise NoWorkflow(f"Workflow {workflow_id} does not exist.")
    steps = await session.scalars(select(StatusWorkflowStep).where(StatusWorkflowStep.workflow_id == workflow_id))
    return Workflow(row=row, steps={s.status_name: s for s in steps})


async def workflow_for(*, session: AsyncSession, entity_type: str, business_entity_id: uuid.UUID | None) -> Workflow:
    """The brand's active workflow for this entity type, else the entity type's default."""
    row = await session.scalar(
        select(StatusWorkflow)
        .where(
            StatusWorkflow.entity_type == entity_type,
            StatusWorkflow.is_active.is_(True),
            or_(StatusWorkflow.business_entity_id == business_entity_id, StatusWorkflow.is_default.is_(True)),
        )
        .order_by(StatusWorkflow.business_entity_id.is_(None), StatusWorkflow.created_at)
        .limit(1)
    )
    if row is None:
        raise NoWorkflow(f"No active workflow for {entity_type} entities.", field="entity_type")
    return await load_workflow(session=session, workflow_id=row.id)


async def initialize(
    *,
    session: AsyncSession,
    entity_type: str,
    entity: Any,
    workflow: Workflow,
    actor: Actor,
    reason: str | None = None,
) -> StatusTransition:
    """Record the first status of a new entity (its row already flushed with that status)."""
    adapter = adapter_for(entity_type)
    return await _apply(
        session, adapter, entity, workflow, None, workflow.first_step, actor, reason=reason, business_context={}
    )


async def change_status(
    *,
    session: AsyncSession,
    entity_type: str,
    entity_id: uuid.UUID,
    to_status: str | None,
    actor: Actor,
    reason: str | None = None,
    business_context: dict[str, Any] | None = None,
    expected_status: str | None = None,
    purpose: Purpose = Purpose.CHANGE,
    metadata: dict[str, Any] | None = None,
) -> StatusTransition:
    """Move an entity to `to_status`. With Purpose.HOLD the workflow's hold step is the target
    (`to_status` is ignored); Purpose.RESUME leaves the hold step for `to_status`."""
    adapter = adapter_for(entity_type)
    reason = text.text(reason, field="reason", max_length=text.REASON_LENGTH)
    entity = await session.get(adapter.model, entity_id, with_for_update=True, populate_existing=True)
    if entity is None:
        raise NotFound(adapter.name, entity_id, field="entity_id")
    current = await session.get(EntityCurrentStatus, (entity_type, entity_id), populate_existing=True)
    if current is None:
        raise NoWorkflow(f"{adapter.name} {entity_id} has no status yet.", field="entity_id")
    workflow = await load_workflow(session=session, workflow_id=current.workflow_id)
    from_step = workflow.steps[current.status]

    if expected_status is not None and expected_status != current.status:
        raise StatusConflict(expected_status, current.status)
    if from_step.is_final:
        raise FinalStatus(current.status)

    allowed = [s.status_name for s in workflow_targets(workflow, current.status)]
    if purpose is Purpose.HOLD:
        to_step = workflow.hold_step
        if to_step is None or from_step.step_type is StepType.HOLD:
            raise InvalidStatusTransition(current.status, to_step.status_name if to_step else "on_hold", [])
    elif purpose is Purpose.RESUME:
        to_step = workflow.steps.get(to_status or "")
        if from_step.step_type is not StepType.HOLD or to_step is None or to_step.step_type is StepType.HOLD:
            raise InvalidStatusTransition(current.status, to_status or "", [])
    else:
        to_step = workflow.steps.get(to_status or "")
        if to_step is None or to_status not in allowed:
            raise InvalidStatusTransition(current.status, to_status or "", allowed)
    if purpose is Purpose.CHANGE and not may_approve(actor, to_step):
        raise ApprovalRequired(to_step.status_name, to_step.approval_role or "")

    return await _apply(
        session,
        adapter,
        entity,
        workflow,
        from_step,
        to_step,
        actor,
        reason=reason,
        business_context=business_context or {},
        metadata=metadata,
    )


async def _apply(
    session: AsyncSession,
    adapter: EntityAdapter,
    entity: Any,
    workflow: Workflow,
    from_step: StatusWorkflowStep | None,
    to_step: StatusWorkflowStep,
    actor: Actor,
    *,
    reason: str | None,
    business_context: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> StatusTransition:
    now = datetime.now(UTC)
    deadline = now + timedelta(hours=to_step.sla_hours) if to_step.sla_hours is not None else None
    movement = movement_of(workflow, from_step, to_step)
    from_status = from_step.status_name if from_step else None
    transition = StatusTransition(
        entity_type=adapter.entity_type.value,
        entity_id=entity.id,
        workflow_id=workflow.row.id,
        from_status=from_status,
        to_status=to_step.status_name,
        movement=movement,
        reason=reason,
        business_context=business_context,
        triggered_by_account_id=actor.account_id,
        triggered_by_system=actor.system,
        sla_deadline=deadline,
        is_milestone=to_step.is_milestone,
        metadata_=metadata or {},
        created_at=now,
    )
    session.add(transition)
    setattr(entity, adapter.status_attribute, to_step.status_name)
    await session.flush()

    values = {
        "workflow_id": workflow.row.id,
        "status": to_step.status_name,
        "since": now,
        "sla_deadline": deadline,
        "last_transition_id": transition.id,
        "overdue_since": None,  # a new status starts on time
    }
    await session.execute(
        insert(EntityCurrentStatus)
        .values(entity_type=adapter.entity_type.value, entity_id=entity.id, **values)
        .on_conflict_do_update(index_elements=["entity_type", "entity_id"], set_=values)
    )
    await record(
        session=session,
        actor=actor,
        action="status.change",
        entity_type=adapter.entity_type.value,
        entity_id=entity.id,
        before={"status": from_status} if from_step else None,
        after={"status": to_step.status_name, "movement": movement.value, "transition_id": transition.id},
    )
    await events.publish(
        session,
        StatusChanged(
            entity_type=adapter.entity_type.value,
            entity_id=entity.id,
            business_entity_id=adapter.business_entity_id(entity),
            workflow_id=workflow.row.id,
            from_status=from_status,
            to_status=to_step.status_name,
            movement=movement,
            transition_id=transition.id,
            actor=actor,
            to_step=to_step,
            passed_through=bool((metadata or {}).get(PASSED_THROUGH)),
        ),
    )
    return transition


async def advance(
    *, session: AsyncSession, entity_type: str, entity_id: uuid.UUID, to_status: str, actor: Actor, reason: str
) -> None:
    """Walk an entity forward along its workflow's main path up to `to_status`, one allowed step
    at a time (each through `change_status`, in history; the steps before the last marked as
    passed through, so that only the last is told). An entity that cannot get there — on hold,
    already past it, a workflow without that step — stays where it is."""
    current = await session.get(EntityCurrentStatus, (entity_type, entity_id))
    if current is None:
        return
    workflow = await load_workflow(session=session, workflow_id=current.workflow_id)
    path = [step.status_name for step in workflow.main_path]
    if to_status not in path or current.status not in path:
        return
    status = current.status
    steps = path[path.index(status) + 1 : path.index(to_status) + 1]
    for step in steps:
        if step not in {target.status_name for target in workflow_targets(workflow, status)}:
            return
        await change_status(
            session=session,
            entity_type=entity_type,
            entity_id=entity_id,
            to_status=step,
            actor=actor,
            reason=reason,
            metadata={PASSED_THROUGH: True} if step != to_status else None,
        )
        status = step


# --- reads for the API -----------------------------------------------------------------------


_STEP_READ = tuple(
    c
    for c in columns(StatusWorkflowStep)
    if c.name not in ("workflow_id", "allowed_transitions", "auto_transition_conditions", "notification_settings")
)
"""A current status's step as the reads need it: where it stands and what it locks. Its arrays
and JSON settings are what moves and messages read, from the workflow (`load_workflow`);
decoding them for every status of an order page was a tenth of the page (docs/benchmarks.md)."""


@functools.cache
def _current_of_ids() -> Select[Any]:
    """Built once and kept, its keys bound when it runs (like `_transitions_of_ids`): building a
    statement and working out its cache key cost more than running it (docs/benchmarks.md)."""
    return by_keys(
        select(*columns(EntityCurrentStatus), *_STEP_READ)
        .join(
            StatusWorkflowStep,
            (StatusWorkflowStep.workflow_id == EntityCurrentStatus.workflow_id)
            & (StatusWorkflowStep.status_name == EntityCurrentStatus.status),
        )
        .where(any_of_ids(EntityCurrentStatus.entity_id))
        .order_by(EntityCurrentStatus.entity_id)
    )


async def current_of_many(
    *, session: AsyncSession, keys: Sequence[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], tuple[EntityCurrentStatus, StatusWorkflowStep]]:
    """Each entity's current status and the workflow step it is in. Both come as one plain row
    (app.db.columns) that answers the attribute names of both: the status's, and the step's
    besides `workflow_id`, which the two share, and besides its allowed transitions and its
    automation and notification settings (`_STEP_READ`)."""
    rows = await read(session, _current_of_ids(), ids={entity_id for _, entity_id in keys})
    wanted = set(keys)
    return {(row.entity_type, row.entity_id): (row, row) for row in rows if (row.entity_type, row.entity_id) in wanted}


_READ_TRANSITION = tuple(
    c.cast(Text).label("business_context_json") if c.name == "business_context" else c
    for c in columns(StatusTransition)
    if c.name != "metadata_"
)
"""A transition as the read path shows it: its business context as JSON text, parsed when
asked for (`json.loads` of every row's context was a tenth of an order page), without the
internal metadata."""


@functools.cache
def _transitions_of_ids() -> Select[Any]:
    return by_keys(
        select(*_READ_TRANSITION)
        .where(any_of_ids(StatusTransition.entity_id))
        .order_by(StatusTransition.entity_id, StatusTransition.created_at.desc(), StatusTransition.id)
    )


async def transitions_of_many(
    *, session: AsyncSession, keys: Sequence[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], list[StatusTransition]]:
    """Each entity's history, newest first, as plain rows (`_READ_TRANSITION`)."""
    rows = await read(session, _transitions_of_ids(), ids={entity_id for _, entity_id in keys})
    wanted = set(keys)
    result: dict[tuple[str, uuid.UUID], list[StatusTransition]] = {}
    for row in rows:
        key = (row.entity_type, row.entity_id)
        if key in wanted:
            result.setdefault(key, []).append(row)
    return result


async def workflows_of_many(*, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Workflow]:

    rows = await session.execute(
        select(StatusWorkflow, StatusWorkflowStep)
        .join(StatusWorkflowStep, StatusWorkflowStep.workflow_id == StatusWorkflow.id)
        .where(any_of(StatusWorkflow.id, ids))
        .order_by(StatusWorkflow.id, StatusWorkflowStep.step_order)
    )
    result: dict[uuid.UUID, Workflow] = {}
    for workflow, step in rows:
        result.setdefault(workflow.id, Workflow(row=workflow, steps={})).steps[step.status_name] = step
    return result


async def list_workflows(*, session: AsyncSession, entity_type: str | None) -> Sequence[StatusWorkflow]:
    stmt = select(StatusWorkflow).order_by(StatusWorkflow.entity_type, StatusWorkflow.name)
    if entity_type is not None:
        stmt = stmt.where(StatusWorkflow.entity_type == entity_type)
    return (await session.scalars(stmt)).all()
