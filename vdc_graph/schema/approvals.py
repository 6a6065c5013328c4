"""Four-eyes approval: ``approvals``, ``approvalSettings``, deciding, and ``approvalUpdates``.

An approved action runs again through this schema, as its requester and with the checks of
that moment; ``HeldForApproval`` gives the payload of every guarded mutation its ``approval``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any, Self

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.types import Info

from vdc_graph.approvals import holding
from vdc_graph.context import RequestContext
from vdc_graph.db import models
from vdc_graph.errors import ApiError
from vdc_graph.resolvers import approvals as resolve
from vdc_graph.resolvers.ids import Ref

from .common import Payload, UserError
from .customers import AFTER, BEFORE, FIRST, LAST
from .enums import ApprovalState
from .relay import Connection, ModelNode, page_args


@strawberry.type(description="A guarded action held until another person approves or rejects it.")
class Approval(ModelNode):
    model = models.Approval
    action: str = strawberry.field(description="The mutation held, such as `backupPolicyDelete`.")
    requested_by: str = strawberry.field(description="Who asked (email or API key).")
    expires_at: datetime = strawberry.field(description="When it expires undecided.")
    decided_at: datetime | None = strawberry.field(description="When it was decided.")

    @strawberry.field(description="The mutation's input exactly as sent, as JSON.")
    def input(self) -> str:
        return json.dumps(self.input, sort_keys=True)  # type: ignore[attr-defined]

    @strawberry.field(description="When it was asked for.")
    def requested_at(self) -> datetime:
        return self.created_at  # type: ignore[attr-defined]

    @strawberry.field(description="Pending, approved, rejected, expired or failed.")
    def state(self) -> ApprovalState:
        return resolve.shown_state(self)  # type: ignore[arg-type]

    @strawberry.field(description="Who approved or rejected it.")
    def decided_by(self) -> str | None:
        return self.decided_by or None  # type: ignore[attr-defined]

    @strawberry.field(description="The decider's comment.")
    def comment(self) -> str | None:
        return self.comment or None  # type: ignore[attr-defined]

    @strawberry.field(description="Why the approved action was refused when it ran (FAILED).")
    def result(self) -> str | None:
        return self.result or None  # type: ignore[attr-defined]


@strawberry.type(description="A payload whose mutation may be held for approval.")
class HeldForApproval(Payload):
    approval: Approval | None = strawberry.field(
        default=None,
        description="Set when the action did not run but waits for another person's approval.",
    )

    @classmethod
    def _fields(cls) -> list[Any]:
        # Set by the mutation runner only, never from the resolver's result.
        return [f for f in super()._fields() if f.python_name != "approval"]

    @classmethod
    def held(cls, approval: models.Approval) -> Self:
        """The answer of a mutation that waits for approval: empty, with its approval."""
        payload = cls.refused([])
        payload.approval = approval  # type: ignore[assignment]
        return payload


@strawberry.type(description="Whether guarded actions need a second person's approval.")
class ApprovalSettings:
    enabled: bool = strawberry.field(description="Guarded actions wait for approval.")
    ttl_hours: int = strawberry.field(description="Hours a request waits before it expires.")


@strawberry.input(description="Approval settings; omitted fields stay as they are.")
class ApprovalSettingsUpdateInput:
    enabled: bool | None = strawberry.field(
        default=None, description="Turn approval on (turning it off itself needs approval)."
    )
    ttl_hours: int | None = strawberry.field(
        default=None, description="Hours a request waits before it expires (1-2160)."
    )


@strawberry.input(description="The request to decide on.")
class ApprovalDecisionInput:
    id: relay.GlobalID = strawberry.field(description="The pending approval.")
    comment: str = strawberry.field(default="", description="A note (up to 1000 characters).")


@strawberry.type(description="The result of `approvalSettingsUpdate`.")
class ApprovalSettingsPayload(HeldForApproval):
    settings: ApprovalSettings | None = strawberry.field(description="The settings now.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, result: resolve.Settings) -> ApprovalSettingsPayload:
        return cls(settings=_settings(result), user_errors=[])


@strawberry.type(description="The result of `approvalApprove` or `approvalReject`.")
class ApprovalDecisionPayload(Payload):
    decided: Approval | None = strawberry.field(
        description="The request as it is now (after the approved action ran)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


def _settings(s: resolve.Settings) -> ApprovalSettings:
    return ApprovalSettings(enabled=s.enabled, ttl_hours=s.ttl_hours)


@strawberry.type
class ApprovalQueries:
    @strawberry.field(description="Requests for approval, newest first (provider-level callers).")
    async def approvals(
        self,
        info: Info,
        states: Annotated[
            list[ApprovalState] | None, strawberry.argument(description="Only these states.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[Approval]:
        page = await resolve.list_approvals(
            info.context, tuple(states or ()), page_args(info, first, after, last, before)
        )
        return Connection[Approval](page=page)

    @strawberry.field(description="Whether guarded actions need approval.")
    async def approval_settings(self, info: Info) -> ApprovalSettings:
        return _settings(await resolve.get_settings(info.context))


async def run_as_requester(info: Info, approval: models.Approval) -> str | None:
    """Runs the approved mutation once, as its requester with the rights they hold now;
    returns why it was refused, or None when it ran."""
    ctx: RequestContext = info.context
    try:
        principal = await holding.requester(approval)
    except ApiError as exc:
        return str(exc)
    field = info.schema._schema.mutation_type.fields[approval.action]  # type: ignore[union-attr]
    document = (
        f"mutation($input: {field.args['input'].type}) "
        f"{{ {approval.action}(input: $input) {{ userErrors {{ message }} }} }}"
    )
    as_requester = RequestContext(
        settings=ctx.settings, principal=principal, client_host=ctx.client_host
    )
    with holding.approved_run(approval):
        result = await info.schema.execute(
            document, variable_values={"input": approval.input}, context_value=as_requester
        )
    if result.errors:
        return "; ".join(_message(e) for e in result.errors)
    errors = (result.data or {}).get(approval.action, {}).get("userErrors") or []
    return "; ".join(e["message"] for e in errors) or None


def _message(error: GraphQLError) -> str:
    original = error.original_error
    return str(original) if isinstance(original, ApiError) else "The action failed"


@strawberry.type
class ApprovalMutations:
    @strawberry.mutation(
        description="Turn approval on or off, or change how long requests wait. Needs "
        "SITE_SETTINGS; turning it off is itself held for approval while it is on."
    )
    async def approval_settings_update(
        self,
        info: Info,
        input: Annotated[ApprovalSettingsUpdateInput, strawberry.argument(description="Changes.")],
    ) -> ApprovalSettingsPayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            ApprovalSettingsPayload,
            lambda: resolve.update_settings(info.context, input.enabled, input.ttl_hours),
            target=("ApprovalSetting", "settings"),
        )

    @strawberry.mutation(
        description="Approve another person's request: its action runs at once, once, as the "
        "requester and with the checks of this moment. Needs the permission the action needs."
    )
    async def approval_approve(
        self,
        info: Info,
        input: Annotated[ApprovalDecisionInput, strawberry.argument(description="The request.")],
    ) -> ApprovalDecisionPayload:
        from .mutations import run_mutation

        ref = Ref(input.id.type_name, input.id.node_id)
        decided = await run_mutation(
            info, ApprovalDecisionPayload, lambda: resolve.approve(info.context, ref, input.comment)
        )
        if decided.decided is not None:  # approved and committed: now it runs
            approval: models.Approval = decided.decided  # type: ignore[assignment]
            failure = await run_as_requester(info, approval)
            decided.decided = await resolve.finish(approval, failure)  # type: ignore[assignment]
        return decided

    @strawberry.mutation(
        description="Reject a request (the requester may withdraw their own this way); its "
        "action does not run. Needs the permission the action needs."
    )
    async def approval_reject(
        self,
        info: Info,
        input: Annotated[ApprovalDecisionInput, strawberry.argument(description="The request.")],
    ) -> ApprovalDecisionPayload:
        from .mutations import run_mutation

        ref = Ref(input.id.type_name, input.id.node_id)
        return await run_mutation(
            info, ApprovalDecisionPayload, lambda: resolve.reject(info.context, ref, input.comment)
        )


async def watch_approval_updates(info: Info) -> AsyncGenerator[Approval, None]:
    async for approval in resolve.watch(info.context):
        yield approval  # type: ignore[misc]
