"""``can_use_tool``: a program's own function deciding the tool calls that would ask the user.

It is consulted exactly where the terminal would ask (after deny rules, hooks and the mode),
with the call and why it asks; it answers ``Allow`` (maybe with a changed input, maybe saving
rules so later calls run without asking) or ``Deny`` (the message goes to the model).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from backend_agent.awaiting import resolve
from backend_agent.permissions.approval import Approval, ApprovalRequest, RuleScope
from backend_agent.tools.base import PlannedChange

logger = logging.getLogger("backend_agent")


@dataclass(frozen=True)
class PermissionContext:
    """Why a call asks: ``reason``; the rules "always allow" would save (``suggestions``);
    for Write/Edit/MultiEdit, the change it would make (``change.before``/``change.after``)."""

    reason: str
    suggestions: tuple[str, ...] = ()
    change: PlannedChange | None = None


@dataclass(frozen=True)
class Allow:
    """Run the call, with ``updated_input`` instead of the model's input when given.

    ``rules`` (e.g. the context's ``suggestions``) are added so that later calls they match
    run without asking; ``scope`` says where they are kept: only this session, or the
    ``local``, ``project`` or ``user`` settings file, as "yes, and don't ask again" does.
    """

    updated_input: dict[str, Any] | None = None
    rules: Sequence[str] = ()
    scope: RuleScope = "session"


@dataclass(frozen=True)
class Deny:
    """Refuse the call: the model gets an error result with ``message``; ``interrupt`` also
    stops the run (a cancelled result, as ``Session.interrupt()`` gives)."""

    message: str = ""
    interrupt: bool = False


PermissionResult = Allow | Deny
CanUseTool = Callable[
    [str, dict[str, Any], PermissionContext], PermissionResult | Awaitable[PermissionResult]
]
"""``can_use_tool(tool_name, tool_input, context)``, plain or ``async``."""


class CallbackApprover:
    """The Approver that asks a ``can_use_tool`` function; ``interrupt`` stops the run."""

    def __init__(self, can_use_tool: CanUseTool, interrupt: Callable[[], None]) -> None:
        self.can_use_tool = can_use_tool
        self.interrupt = interrupt

    def approve(self, request: ApprovalRequest) -> Approval:
        context = PermissionContext(request.reason, request.suggestions, request.change)
        answer = resolve(self.can_use_tool(request.tool, dict(request.tool_input), context))
        if isinstance(answer, Deny):
            if answer.interrupt:
                self.interrupt()
            return Approval("no", answer.message)
        if not isinstance(answer, Allow):
            raise TypeError(
                f"can_use_tool returned {answer!r}; return backend_agent.Allow() or "
                "backend_agent.Deny(message)"
            )
        if answer.rules:
            return Approval("always", "", answer.updated_input, tuple(answer.rules), answer.scope)
        return Approval("once", updated_input=answer.updated_input)

    def notify(self, message: str) -> None:
        logger.info(message)
