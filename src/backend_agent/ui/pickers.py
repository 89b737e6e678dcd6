"""Choices the interactive mode asks for: the session to resume, and what ``/rewind`` restores.

Both print a numbered list with rich and read the answer through ``ask`` (a prompt_toolkit
prompt), so tests drive them with piped keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.console import Console
from rich.text import Text

from backend_agent.sessions.session import Session
from backend_agent.sessions.transcript import SessionSummary

Ask = Callable[[str], str]
MAX_PROMPT_CHARS = 70
_REWIND_MODES = {1: (True, True), 2: (False, True), 3: (True, False)}


def pick_session(sessions: list[SessionSummary], console: Console, ask: Ask) -> str | None:
    """The id of the session the user picks, most recent first; None when none or cancelled."""
    if not sessions:
        console.print("No sessions to resume in this directory.")
        return None
    newest = list(reversed(sessions))
    console.print(Text("Resume which session?", style="bold"))
    for number, summary in enumerate(newest, 1):
        turns = f"{summary.turns} turn{'' if summary.turns == 1 else 's'}"
        console.print(
            Text.assemble(
                f"  {number:>2}. ",
                (f"{local_time(summary.last_activity)}  ", "dim"),
                (f"{turns:>9}  ${summary.cost_usd:.4f}  ", "dim"),
                one_line(summary.first_prompt or "(no prompt)"),
            )
        )
    chosen = _choose(ask, f"Session [1-{len(newest)}] (Enter cancels): ", len(newest))
    return newest[chosen - 1].id if chosen is not None else None


def rewind_dialog(session: Session, console: Console, ask: Ask) -> str:
    """``/rewind``: pick a prompt, then code, conversation or both; ask before overwriting
    files changed outside the session. Returns the prompt's text when the conversation went
    back (to edit and send again), else ''."""
    prompts = session.prompts
    if not prompts:
        console.print("Nothing to rewind yet.")
        return ""
    console.print(Text("Rewind to just before which prompt?", style="bold"))
    for point in prompts:
        when = local_time(point.timestamp)
        console.print(
            Text.assemble(f"  {point.number:>2}. ", (f"{when}  ", "dim"), one_line(point.text))
        )
    number = _choose(ask, f"Prompt [1-{len(prompts)}] (Enter cancels): ", len(prompts))
    if number is None:
        return ""
    for line in ("1. Code and conversation", "2. Conversation only", "3. Code only"):
        console.print(f"  {line}")
    mode = _choose(ask, "Restore [1-3] (Enter cancels): ", 3)
    if mode is None:
        return ""
    code, conversation = _REWIND_MODES[mode]
    force = False
    if code:
        conflicts = session.plan_rewind(number).conflicts
        if conflicts:
            console.print(
                Text("Changed outside the session since its last checkpoint:", style="yellow")
            )
            for path in conflicts:
                console.print(f"  {path}", markup=False, highlight=False)
            if ask("Overwrite them? [y/N]: ").strip().lower() not in ("y", "yes"):
                console.print("Nothing was rewound.")
                return ""
            force = True
    outcome = session.rewind(number, code=code, conversation=conversation, force=force)
    if code:
        files = ", ".join(outcome.restored) if outcome.restored else "no file had changed"
        console.print(Text(f"Restored {len(outcome.restored)} files: {files}", style="green"))
    if conversation:
        console.print(Text(f"The conversation is back to before prompt {number}.", style="green"))
        return outcome.prompt.text
    return ""


def local_time(timestamp: str) -> str:
    """An ISO 8601 timestamp as local ``YYYY-MM-DD HH:MM`` (as given when unreadable)."""
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def one_line(text: str) -> str:
    """``text`` on one line, cut to fit a list."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_PROMPT_CHARS else flat[: MAX_PROMPT_CHARS - 1] + "…"


def _choose(ask: Ask, question: str, count: int) -> int | None:
    """A number from 1 to ``count``; None when the answer is empty (asks again otherwise)."""
    while True:
        answer = ask(question).strip()
        if not answer:
            return None
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer)
