"""The session's review of final reports: when the model ends its turn with the report the
agent's prompt asked for, compare it with the evidence of the
session's change; send one corrective message when it falls short (``revise``), and leave what
is still wrong in an ``### Evidence check`` block and in the result's ``report`` object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from backend_agent.evidence.options import EvidenceMode
from backend_agent.evidence.template import CHECK_HEADING, ReportTemplate, read_report
from backend_agent.runtime.results import RunResult

if TYPE_CHECKING:
    from backend_agent.analysis.report import Report
    from backend_agent.evidence.change import Change
    from backend_agent.evidence.check import Discrepancy
    from backend_agent.evidence.source import Progress, ProjectEvidence

MAX_LISTED = 20


@dataclass
class ReportCheck:
    """What the check of one answer found; ``as_dict`` is the result's ``report`` object."""

    template: bool
    checked: bool = False
    sections: dict[str, str] = field(default_factory=dict)
    evidence: Report | None = None
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def verified(self) -> bool | None:
        """True when checked and nothing is wrong; None when not checked."""
        return not self.discrepancies if self.checked else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "checked": self.checked,
            "sections": self.sections,
            "evidence": self.evidence.as_dict() if self.evidence is not None else None,
            "discrepancies": [d.as_dict() for d in self.discrepancies],
            "verified": self.verified,
        }


class EvidenceReview:
    """Checks each final answer of a session's prompts against the evidence.

    ``change`` gives the session's change so far; ``warn`` hears of a check that could not
    run; ``progress`` of the engine's steps. Answers without the report are not checked.
    """

    def __init__(
        self,
        template: ReportTemplate | None,
        mode: EvidenceMode,
        *,
        evidence: ProjectEvidence,
        change: Callable[[], Change],
        rounds: int = 1,
        warn: Callable[[str], None],
        progress: Progress | None = None,
    ) -> None:
        self.template = template
        self.mode = mode
        self.rounds = rounds
        self.evidence = evidence
        self.change = change
        self.warn = warn
        self.progress = progress
        self.outcome = ReportCheck(template is not None)
        self._sent = 0

    def start_prompt(self) -> None:
        """A new prompt: no corrective message sent yet, nothing checked yet."""
        self._sent = 0
        self.outcome = ReportCheck(self.template is not None)

    def __call__(self, final_text: str) -> str:
        """The end-of-turn check: a corrective message for the model, or '' to let it end."""
        template = self.template
        if template is None or self.mode == "off":
            return ""
        written = read_report(final_text, template)
        if not written.found:  # a question, a status note: only reports are checked
            self.outcome = ReportCheck(True)
            return ""
        from backend_agent.evidence.check import check_report

        tell = self.progress or _quiet
        try:
            tell("reading the change", 0, 0)
            evidence = self.evidence.measure(self.change(), self.progress)
        except Exception as error:  # the check must never break the run it checks
            self.warn(f"the evidence check could not run: {type(error).__name__}: {error}")
            self.outcome = ReportCheck(True, sections=written.sections)
            return ""
        finally:
            tell("", 0, 0)
        found = check_report(written, template, evidence)
        self.outcome = ReportCheck(True, True, written.sections, evidence, found)
        if found and self.mode == "revise" and self._sent < self.rounds:
            self._sent += 1
            return corrective_message(template, evidence, found)
        return ""

    def finish(self, result: RunResult) -> RunResult:
        """The run's result with the ``report`` object, and the Evidence check block when
        discrepancies are left (successful runs only)."""
        if self.mode == "off" or result.is_error:
            return result
        outcome = self.outcome
        text = result.result
        if outcome.checked and outcome.discrepancies:
            text = f"{text.rstrip()}\n\n{check_block(outcome.discrepancies)}"
        return replace(result, result=text, report=outcome.as_dict())


def _quiet(step: str, done: int, total: int) -> None:
    """The progress listener used when the session has none."""


def corrective_message(template: ReportTemplate, evidence: Report, found: list[Discrepancy]) -> str:
    """What the model is told, as a Stop hook would tell it: each discrepancy with its place."""
    base = evidence.plan.base or "the session's start"
    return (
        f"Evidence check: your {template.title} was compared with the code changed since "
        f"{base}; it found {_count(found)}:\n{_listed(found)}\n"
        "Revise the report so it covers each of these (say so if one does not apply), and "
        "answer with the whole report again."
    )


def check_block(found: list[Discrepancy]) -> str:
    """The ``### Evidence check`` block appended to a final answer."""
    return (
        f"### {CHECK_HEADING}\n\nNot verified against the code: {_count(found)}.\n{_listed(found)}"
    )


def _count(found: list[Discrepancy]) -> str:
    return f"{len(found)} discrepanc{'y' if len(found) == 1 else 'ies'}"


def _listed(found: list[Discrepancy]) -> str:
    lines = [f"- {d.describe()}" for d in found[:MAX_LISTED]]
    if len(found) > MAX_LISTED:
        lines.append(f"- ... and {len(found) - MAX_LISTED} more (see the JSON result)")
    return "\n".join(lines)
