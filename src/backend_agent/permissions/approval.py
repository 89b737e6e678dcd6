"""Asking the user about a tool call: the request, the answer, and the Approver that asks.

The policy builds the request (what the call does, why it asks, what "always" would save);
an Approver shows it and returns yes once / yes always / no. The terminal approver lives in
``backend_agent.ui.approval``; the Python API can pass its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from backend_agent.settings import SettingsScope
from backend_agent.tools.base import PlannedChange

Choice = Literal["once", "always", "no"]
RuleScope = SettingsScope | Literal["session"]
"""Where an "always" answer keeps its rules: a settings file, or only this session's memory."""


@dataclass(frozen=True)
class ApprovalRequest:
    """One tool call waiting for the user: what it does, why it asks, what "always" would save."""

    tool: str
    tool_input: dict[str, Any]
    reason: str
    change: PlannedChange | None = None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Approval:
    """The user's answer; ``note`` goes to the model with a refusal.

    A yes may run the call with ``updated_input`` instead of the model's. "always" saves
    ``rules`` (None: the request's suggestions) to the settings of ``scope``.
    """

    choice: Choice
    note: str = ""
    updated_input: dict[str, Any] | None = None
    rules: tuple[str, ...] | None = None
    scope: RuleScope = "local"


class Approver(Protocol):
    """Whatever asks the user; the policy calls it only for decisions that are ``ask``."""

    def approve(self, request: ApprovalRequest) -> Approval: ...

    def notify(self, message: str) -> None: ...
