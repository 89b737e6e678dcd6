"""The basic interactive mode: a prompt_toolkit prompt, answers streamed with rich.

Ctrl-C at the prompt clears the line; during a turn it cancels the turn. Ctrl-D (or ``/exit``)
ends the session. ``/rewind`` goes back to before an earlier prompt. SIGTERM and SIGHUP cancel
the turn, close the session and exit with 143 or 129.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from backend_agent.errors import UserError
from backend_agent.permissions.approval import Approver
from backend_agent.runtime.results import Terminated
from backend_agent.sessions import lookup
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.session import Session
from backend_agent.sessions.signals import TERMINATING_SIGNALS, terminate_on_signals
from backend_agent.sessions.store import JsonlFileStore
from backend_agent.ui.approval import TerminalApprover
from backend_agent.ui.pickers import Ask, pick_session, rewind_dialog
from backend_agent.ui.render import RunRenderer, agent_label, evidence_progress

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

EXIT_COMMANDS = ("/exit", "/quit")
REWIND_COMMAND = "/rewind"


def run_interactive(
    config: SessionConfig,
    first_prompt: str | None = None,
    *,
    pick: bool = False,
    prompt_session: PromptSession[str] | None = None,
    console: Console | None = None,
    approver: Approver | None = None,
) -> int:
    """Read prompts until Ctrl-D, running each one in the session; returns the exit status.

    ``pick``: first let the user choose the session to resume (``--resume`` without an id).
    """
    from prompt_toolkit import PromptSession

    console = console or Console(highlight=False)
    keys: PromptSession[str] = prompt_session or PromptSession()
    with terminate_on_signals():
        try:
            if pick and not _pick(config, console, keys.prompt):
                return 0
            with Session.open(
                config, approver=approver or TerminalApprover(), progress=evidence_progress()
            ) as session:
                return _converse(session, console, keys, first_prompt)
        except Terminated as stop:
            return 128 + stop.signum


def _converse(
    session: Session, console: Console, keys: PromptSession[str], pending: str | None
) -> int:
    _print_banner(console, session)
    draft = ""  # the prompt a conversation rewind hands back for editing
    while True:
        if pending is None:
            try:
                pending = keys.prompt("> ", default=draft)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            draft = ""
        prompt, pending = pending.strip(), None
        if prompt in EXIT_COMMANDS:
            return 0
        if prompt == REWIND_COMMAND:
            draft = _rewind(session, console, keys.prompt)
        elif prompt:
            renderer = RunRenderer(console, session.definition.name, session.definition.color)
            result = session.prompt(prompt, renderer.on_event)
            renderer.finish(result)
            if result.signum in TERMINATING_SIGNALS:
                return result.exit_code


def _rewind(session: Session, console: Console, ask: Ask) -> str:
    try:
        return rewind_dialog(session, console, ask)
    except UserError as error:
        console.print(Text(str(error), style="red"))
        return ""


def _pick(config: SessionConfig, console: Console, ask: Ask) -> bool:
    """Let the user choose the session to resume; False when there is none or they cancel."""
    store = JsonlFileStore.for_cwd(config.cwd.resolve())
    chosen = pick_session(lookup.summaries(store), console, ask)
    if chosen is None:
        return False
    config.resume.session = chosen
    return True


def _print_banner(console: Console, session: Session) -> None:
    definition = session.definition
    line = agent_label(definition.name, definition.color)
    line.append(f"  {session.model.model_id} · {session.cwd}", style="dim")
    console.print(line)
    sandbox = session.tools.sandbox
    note = "shell commands are NOT sandboxed" if sandbox == "none" else "shell commands sandboxed"
    console.print(
        Text(f"sandbox: {sandbox} ({note})", style="yellow" if sandbox == "none" else "dim")
    )
    if session.resumed:
        count = len(session.prompts)
        how = f"Forked {session.forked_from} into" if session.forked_from else "Resumed"
        console.print(Text(f"{how} session {session.id} ({count} earlier prompts)", style="dim"))
    console.print(Text("Ctrl-C cancels a turn · Ctrl-D exits · /rewind goes back", style="dim"))
