"""The one way a mutation runs: in a transaction, its userErrors turned into its payload, and
its audit record written (for a change, inside its transaction; for a refusal, outside it)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from graphql import value_from_ast_untyped
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError
from strawberry.types import Info
from tortoise.models import Model

from vdc_graph.approvals.holding import hold
from vdc_graph.db.transactions import atomic
from vdc_graph.errors import ApiError, NotFound, UserErrorCode, UserErrors
from vdc_graph.resolvers import audit
from vdc_graph.resolvers.validation import text_problems

from .common import Payload, UserError
from .relay import ModelNode

P = TypeVar("P", bound=Payload)

# userErrors that are refusals rather than typing mistakes, recorded as DENIED.
AUDITED_USER_ERRORS = frozenset(
    {
        UserErrorCode.NOT_FOUND,
        UserErrorCode.LAST_USER_MANAGER,
        UserErrorCode.BUILT_IN_ROLE,
        # Granting (or taking) a permission one does not hold.
        UserErrorCode.PERMISSION_REQUIRED,
    }
)


async def run_mutation(
    info: Info,
    payload: type[P],
    act: Callable[[], Awaitable[Any]],
    target: tuple[str, str] | None = None,
) -> P:
    """Run ``act`` (the resolver call) atomically and answer ``payload.done(its result)``; when
    it raises userErrors nothing it wrote is kept and the answer is ``payload.refused(them)``.

    Actions registered with ``db.transactions.after_commit`` run once it has committed. The
    audit record names the object of the payload (or, when there is none, the object the
    input's ID names); ``target`` (GraphQL type name, key) names it when neither can.
    """
    ctx = info.context
    # Every text of every input: no control characters (line breaks only where text may span
    # lines), before anything runs.
    if problems := text_problems(_raw_input(info), ["input"]):
        return payload.refused([UserError.from_error(e) for e in problems])
    # A guarded action waits for another person's approval instead (see approvals.guarded).
    approval = await hold(ctx, info.field_name, _raw_input(info))
    if approval is not None:  # a guarded action's payload is a HeldForApproval
        return payload.held(approval)  # type: ignore[attr-defined]
    targets = [target] if target is not None else _input_targets(info)
    try:
        async with atomic():
            before = {t: await _snapshot(ctx, t) for t in targets}
            result = payload.done(await act())
            await audit.record_changes(ctx, info.field_name, await _changes(result, before))
            return result
    except UserErrors as exc:
        # Guard rules and objects not found (perhaps another provider's) are refusals worth
        # a record in the caller's own log: they are how a probe or a lock-out attempt looks.
        guarded = [e for e in exc.errors if e.code in AUDITED_USER_ERRORS]
        if guarded and ctx.principal is not None:
            await audit.record_denied(
                ctx.principal,
                ctx.client_host,
                info.field_name,
                guarded[0].code.value,
                guarded[0].message,
                targets[0] if targets else ("", ""),
            )
        return payload.refused([UserError.from_error(e) for e in exc.errors])
    except ApiError as exc:
        target = targets[0] if targets else ("", "")
        probe = isinstance(exc, NotFound) and ctx.principal is not None
        if audit.is_refusal(exc) or probe:
            await audit.record_refusal(ctx.principal, ctx.client_host, info.field_name, exc, target)
        raise


@functools.cache  # the types are all defined once the schema is built
def _models_by_type() -> dict[str, type[Model]]:
    found: dict[str, type[Model]] = {}
    pending = list(ModelNode.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        model = getattr(cls, "model", None)
        if model is not None:
            found[cls.__name__] = model
    return found


def _raw_input(info: Info) -> dict[str, Any]:
    """The mutation's ``input`` argument as the client sent it (JSON names, IDs as strings)."""
    raw = info._raw_info
    for argument in raw.field_nodes[0].arguments or ():
        if argument.name.value == "input":
            value = value_from_ast_untyped(argument.value, raw.variable_values)
            return value if isinstance(value, dict) else {}
    return {}


def _decoded(value: Any) -> list[tuple[str, str]]:
    values = value if isinstance(value, list) else [value]
    found = []
    for item in values:
        if isinstance(item, str):
            try:
                gid = relay.GlobalID.from_id(item)
            except GlobalIDValueError:
                continue  # not a global ID: it names nothing
            found.append((gid.type_name, gid.node_id))
    return found


def _input_targets(info: Info) -> list[tuple[str, str]]:
    """The objects the input names: its ``id`` or ``ids``, else those of its first other ID
    field (such as ``userIds``)."""
    data = _raw_input(info)
    own = [t for name in ("id", "ids") for t in _decoded(data.get(name))]
    if own:
        return own
    for name, value in data.items():
        if name.endswith(("Id", "Ids")) and (found := _decoded(value)):
            return found
    return []


async def _snapshot(ctx: Any, target: tuple[str, str]) -> audit.Snapshot | None:
    model = _models_by_type().get(target[0])
    if model is None:
        return None
    return await audit.snapshot(ctx, model, target[1])


def _payload_rows(result: Any) -> list[Model]:
    if not dataclasses.is_dataclass(result):
        return []
    for field in dataclasses.fields(result):
        value = getattr(result, field.name, None)
        if isinstance(value, Model):
            return [value]
        if isinstance(value, list | tuple) and value and all(isinstance(v, Model) for v in value):
            return list(value)
    return []


async def _changes(result: Any, before: dict[tuple[str, str], Model | None]) -> list[audit.Change]:
    models = _models_by_type()
    type_of = {model: name for name, model in models.items()}
    rows = _payload_rows(result)
    if rows:
        changes = []
        for row in rows:
            target = (type_of.get(type(row), type(row).__name__), str(row.pk))
            changes.append(await audit.change_of(*target, before.get(target), row))
        return changes
    # No object in the payload (a deletion): the input's objects, as they were.
    return [await audit.change_of(t[0], t[1], row, None) for t, row in before.items()]
