"""The status line under the prompt (and under the spinner while the agent works): the agent's
name in its color, the model, the permission mode, the sandbox, context use and the cost."""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    """A piece of the line: its text, and a color (``#RRGGBB``) or '' for the dim default;
    ``short`` replaces the text on a narrow terminal, where pieces with a ``drop`` rank go
    (1 first, then 2) when it is still too narrow."""

    text: str
    color: str = ""
    bold: bool = False
    short: str | None = None
    drop: int = 0


SEPARATOR = " · "


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


def status_segments(session: Session, percent: int | None, width: int = 200) -> list[Segment]:
    """The pieces of the status line that fit in ``width`` columns."""
    definition = session.definition
    label, color = MODE_LABELS.get(session.permission_mode, (session.permission_mode, ""))
    sandbox = session.sandbox
    segments = [
        Segment(definition.name, definition.color or DEFAULT_AGENT_COLOR, bold=True, drop=2),
        Segment(session.model.model_id),
        Segment(f"{label} (shift+tab)", color, short=label),
        Segment("not sandboxed", "#EAB308")
        if sandbox == "none"
        else Segment(f"sandbox: {sandbox}", short="sandboxed", drop=1),
    ]
    if percent is not None:
        segments.append(
            Segment(
                f"context {percent}%", "#EAB308" if percent >= 80 else "", short=f"ctx {percent}%"
            )
        )
    segments.append(
        Segment(f"${session.total_cost_usd:.4f}", short=f"${session.total_cost_usd:.2f}")
    )
    return fit(segments, width)


def fit(segments: list[Segment], width: int) -> list[Segment]:
    """``segments`` as they are when they fit, else shortened, else without the ones that
    may be dropped, in their order."""

    def length(pieces: list[Segment]) -> int:
        return sum(len(piece.text) for piece in pieces) + len(SEPARATOR) * (len(pieces) - 1) + 2

    if length(segments) <= width:
        return segments
    shorter = [replace(s, text=s.short) if s.short else s for s in segments]
    for rank in (1, 2):
        if length(shorter) <= width:
            break
        shorter = [s for s in shorter if s.drop != rank]
    return shorter


def status_text(session: Session, percent: int | None, width: int) -> Text:
    """The line for rich (under the spinner); ``percent``: context use."""
    line = Text()
    for index, segment in enumerate(status_segments(session, percent, width)):
        if index:
            line.append(SEPARATOR, style="dim")
        style = f"{'bold ' if segment.bold else ''}{segment.color}" if segment.color else "dim"
        line.append(segment.text, style=style)
    return line


def status_toolbar(
    session: Session, percent: int | None, width: int, hint: str = ""
) -> list[tuple[str, str]]:
    """The line for prompt_toolkit's bottom toolbar; ``hint`` replaces it (e.g. "press Ctrl-C
    again to exit")."""
    if hint:
        return [("fg:#EAB308", f" {hint}")]
    parts: list[tuple[str, str]] = [("", " ")]
    for index, segment in enumerate(status_segments(session, percent, width)):
        if index:
            parts.append(("fg:#808080", SEPARATOR))
        style = f"fg:{segment.color}" if segment.color else "fg:#808080"
        parts.append((f"{style}{' bold' if segment.bold else ''}", segment.text))
    return parts
