"""The status line under the prompt (and under the spinner while the agent works): the agent's
name in its color, the model, the permission mode, the sandbox, context use and the cost."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from backend_agent.sessions.session import Session
from backend_agent.ui.render import DEFAULT_AGENT_COLOR

MODE_LABELS = {
    "default": ("default mode", ""),
    "acceptEdits": ("⏵⏵ accept edits", "#A855F7"),
    "plan": ("⏸ plan mode", "#06B6D4"),
    "dontAsk": ("dontAsk mode", "#EAB308"),
    "bypassPermissions": ("bypass permissions", "#EF4444"),
}
CYCLE = ("default", "acceptEdits", "plan")


@dataclass(frozen=True)
class Segment:
    """A piece of the line: its text, and a color (``#RRGGBB``) or '' for the dim default."""

    text: str
    color: str = ""
    bold: bool = False


def next_mode(current: str, started_in: str) -> str:
    """Shift+Tab: default → acceptEdits → plan → default; a session started in another mode
    (bypassPermissions, dontAsk) has that mode in the cycle too, after plan."""
    cycle = CYCLE if started_in in CYCLE else (*CYCLE, started_in)
    position = cycle.index(current) if current in cycle else -1
    return cycle[(position + 1) % len(cycle)]


def context_percent(session: Session) -> int:
    """How full the context window is, in % (an estimate: it counts the whole conversation,
    so callers keep the figure rather than asking at every key)."""
    return round(session.context_usage().percent_used)


def status_segments(session: Session, percent: int | None) -> list[Segment]:
    definition = session.definition
    label, color = MODE_LABELS.get(session.permission_mode, (session.permission_mode, ""))
    sandbox = session.sandbox
    segments = [
        Segment(definition.name, definition.color or DEFAULT_AGENT_COLOR, bold=True),
        Segment(session.model.model_id),
        Segment(f"{label} (shift+tab)", color),
        Segment(
            "not sandboxed" if sandbox == "none" else f"sandbox: {sandbox}",
            "#EAB308" if sandbox == "none" else "",
        ),
    ]
    if percent is not None:
        segments.append(Segment(f"context {percent}%", "#EAB308" if percent >= 80 else ""))
    segments.append(Segment(f"${session.total_cost_usd:.4f}"))
    return segments


def status_text(session: Session, percent: int | None) -> Text:
    """The line for rich (under the spinner); ``percent``: context use."""
    line = Text()
    for index, segment in enumerate(status_segments(session, percent)):
        if index:
            line.append(" · ", style="dim")
        style = f"{'bold ' if segment.bold else ''}{segment.color}" if segment.color else "dim"
        line.append(segment.text, style=style)
    return line


def status_toolbar(session: Session, percent: int | None, hint: str = "") -> list[tuple[str, str]]:
    """The line for prompt_toolkit's bottom toolbar; ``hint`` replaces it (e.g. "press Ctrl-C
    again to exit")."""
    if hint:
        return [("fg:#EAB308", f" {hint}")]
    parts: list[tuple[str, str]] = [("", " ")]
    for index, segment in enumerate(status_segments(session, percent)):
        if index:
            parts.append(("fg:#808080", " · "))
        style = f"fg:{segment.color}" if segment.color else "fg:#808080"
        parts.append((f"{style}{' bold' if segment.bold else ''}", segment.text))
    return parts
