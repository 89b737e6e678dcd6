"""How a run ends: its result, and the named exceptions that stop it early.

``StopRun`` and its subclasses end a run with an error subtype (turn limit, budget, blocked
prompt). ``Interrupted`` cancels the turn as Ctrl-C does; it derives from KeyboardInterrupt so
that every ``except KeyboardInterrupt`` on the way (a running shell command, a hook) cleans
up the same way. ``Terminated`` is the interruption a SIGTERM or SIGHUP causes.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any, Literal

from backend_agent.messages import Usage

Subtype = Literal["success", "error_max_turns", "error_max_budget_usd", "error_during_execution"]

CANCELLED = "cancelled by the user (Ctrl-C)"
TERMINATED = "terminated"


class StopRun(Exception):
    """Ends a run before the model finished; ``subtype`` is what the result reports."""

    subtype: Subtype = "error_during_execution"


class MaxTurnsReached(StopRun):
    subtype = "error_max_turns"


class BudgetExceeded(StopRun):
    subtype = "error_max_budget_usd"


class PromptBlocked(StopRun):
    """The policy (a UserPromptSubmit hook) refused to send the prompt."""


class Interrupted(KeyboardInterrupt):
    """Cancels the running turn: Ctrl-C, or ``Session.interrupt()`` from another thread."""

    signum: int = signal.SIGINT
    message: str = CANCELLED


class Terminated(Interrupted):
    """A SIGTERM or SIGHUP: the turn is cancelled and the process is to exit 128 + signum."""

    message = TERMINATED

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass
class Limits:
    """When a run stops early: after ``max_turns`` model calls, or once ``max_budget_usd`` is
    spent (the whole session's cost counts). None: no limit (the agent's maxTurns applies)."""

    max_turns: int | None = None
    max_budget_usd: float | None = None


@dataclass
class RunResult:
    """The outcome of one prompt, with the fields of ``claude -p --output-format json``."""

    subtype: Subtype
    result: str  # the final answer, or what went wrong
    session_id: str
    num_turns: int
    duration_ms: int
    duration_api_ms: int
    usage: Usage
    total_cost_usd: float
    permission_denials: list[dict[str, Any]]
    cancelled: bool = False
    signum: int | None = None  # the signal that ended the run (SIGINT for Ctrl-C), if any
    error: BaseException | None = field(default=None, repr=False, compare=False)
    """The exception behind an ``error_during_execution``, for --debug tracebacks."""
    cost_known: bool = True  # False once a turn came from a model without a known price
    report: dict[str, Any] | None = None
    """The evidence check of the final report (docs/evidence-check.md); None when off."""

    @property
    def is_error(self) -> bool:
        return self.subtype != "success"

    def to_json(self) -> dict[str, Any]:
        """The ``result`` object, exactly as ``--output-format json`` prints it (and as the
        last ``stream-json`` record and the transcript's result entry); ``report`` (the
        evidence check) only when the check is on."""
        record = {
            "type": "result",
            "subtype": self.subtype,
            "is_error": self.is_error,
            "duration_ms": self.duration_ms,
            "duration_api_ms": self.duration_api_ms,
            "num_turns": self.num_turns,
            "result": self.result,
            "session_id": self.session_id,
            "total_cost_usd": self.total_cost_usd,
            "usage": self.usage.as_dict(),
            "permission_denials": self.permission_denials,
        }
        if self.report is not None:
            record["report"] = self.report
        return record

    @property
    def exit_code(self) -> int:
        """The process exit status a CLI run ends with: 0, 1, or 128 + the signal."""
        if self.signum is not None:
            return 128 + self.signum
        if self.cancelled:
            return 128 + signal.SIGINT
        return 1 if self.is_error else 0
