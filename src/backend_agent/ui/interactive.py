"""The interactive mode: a conversation in the terminal.

Each line typed is a prompt for the agent, a ``/command`` handled here (never sent to the
model), or a ``!command`` run in the session's shell. While the agent works, a spinner shows
the elapsed time and tokens; Esc or Ctrl-C interrupt the turn. SIGTERM and SIGHUP cancel the
turn, close the session and exit with 143 or 129. docs/interactive.md describes it all.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from backend_agent import paths
from backend_agent.custom_commands import CustomCommand, load_custom_commands
from backend_agent.errors import UserError
from backend_agent.permissions.approval import Approver
from backend_agent.runtime.compaction import CompactionError
from backend_agent.runtime.events import AgentEvent, CompactionFailed, ContextCompacted, TurnEnd
from backend_agent.runtime.results import RunResult, Terminated
from backend_agent.sessions import lookup
from backend_agent.sessions.config import ResumeChoice, SessionConfig
from backend_agent.sessions.session import Session
from backend_agent.sessions.signals import TERMINATING_SIGNALS, terminate_on_signals
from backend_agent.sessions.store import JsonlFileStore
from backend_agent.ui import slash
from backend_agent.ui.approval import TerminalApprover
from backend_agent.ui.completion import PromptCompleter
from backend_agent.ui.history import ProjectHistory
from backend_agent.ui.keywatch import KeyWatcher
from backend_agent.ui.mentions import attach_mentions
from backend_agent.ui.pickers import pick_session
from backend_agent.ui.prompt_input import PromptInput
from backend_agent.ui.reference import COMMANDS
from backend_agent.ui.render import FoldedResult, RunRenderer, agent_label
from backend_agent.ui.status import context_percent, next_mode, status_text, status_toolbar
from backend_agent.ui.turn import PausingApprover, TurnView, interrupt_turn

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output


def run_interactive(
    config: SessionConfig,
    first_prompt: str | None = None,
    *,
    pick: bool = False,
    input: Input | None = None,
    output: Output | None = None,
    console: Console | None = None,
    approver: Approver | None = None,
) -> int:
    """Converse until the user exits; returns the exit status. ``pick``: first let the user
    choose the session to resume (``--resume`` without an id). ``input``/``output`` replace the
    terminal (tests pipe keys in); the spinner and Esc need the real one."""
    console = console or Console(highlight=False)
    terminal = input is None and sys.stdin.isatty() and console.is_terminal
    conversation = Conversation(config, console, approver, terminal, input, output)
    with terminate_on_signals():
        try:
            if pick and not conversation.pick_start():
                return 0
            return conversation.run(first_prompt)
        except Terminated as stop:
            return 128 + stop.signum
        finally:
            conversation.close()


class Conversation:
    """The terminal side of a session: reads input, runs it, and can swap the session
    (``/clear``, ``/resume``, ``/agents``) while keeping the screen and the prompt."""

    def __init__(
        self,
        config: SessionConfig,
        console: Console,
        approver: Approver | None,
        terminal: bool,
        input: Input | None,
        output: Output | None,
    ) -> None:
        self.config = config
        self.console = console
        self.terminal = terminal
        self.approver = PausingApprover(approver or TerminalApprover(), self.paused)
        self.draft = ""  # text to start the next prompt with (a rewound prompt, typed-ahead)
        self.folded: list[FoldedResult] = []  # the last turn's shortened tool output
        self.custom: dict[str, CustomCommand] = {}
        self._session: Session | None = None
        self._view: TurnView | None = None
        self._opening: list[str] | None = None  # warnings collected while a session opens
        self._started_mode = "default"
        self.percent: int | None = None  # context use, as of the last model turn
        cwd = config.cwd.resolve()
        self.input = PromptInput(
            toolbar=lambda hint, width: status_toolbar(self.session, self.percent, width, hint),
            on_shift_tab=self.cycle_mode,
            on_ctrl_o=self.show_folded,
            history=ProjectHistory(paths.history_file(), cwd),
            completer=PromptCompleter(cwd, self.command_names),
            input=input,
            output=output,
        )

    @property
    def session(self) -> Session:
        if self._session is None:
            raise UserError("no session is open")
        return self._session

    # --- the loop --------------------------------------------------------------------

    def run(self, pending: str | None) -> int:
        self.open(self.config, banner=True)
        while True:
            if pending is None:
                try:
                    pending = self.input.read(self.draft)
                except EOFError:
                    return 0
                self.draft = ""
            text, pending = pending.strip(), None
            if not text:
                continue
            try:
                outcome = self.handle(text)
            except UserError as error:
                self.console.print(Text(str(error), style="red"))
                continue
            if isinstance(outcome, int):
                return outcome

    def handle(self, text: str) -> int | None:
        """Run one input; an exit status when the conversation should end."""
        if text.startswith("!"):
            self.run_shell(text[1:].strip())
            return None
        command = slash.parse(text)
        if command is None:
            return self.send(text)
        name, arguments = command
        if name in self.custom and slash.handler(name) is None:
            return self.send_custom(self.custom[name], arguments)
        return slash.dispatch(self, name, arguments)

    def send(self, text: str, *, allowed_tools: tuple[str, ...] = ()) -> int | None:
        """Send a prompt (with the files it mentions) and show the run."""
        session = self.session
        for attachment in attach_mentions(text, session):
            style = "dim" if attachment.ok else "yellow"
            self.console.print(Text(f"  @{attachment.path}: {attachment.note}", style=style))
        renderer = RunRenderer(
            self.console,
            session.definition.name,
            session.definition.color,
            planned_change=session.tools.planned_change,
            todos=lambda: session.todos,
        )
        view = self._view_for(renderer)
        self._view = view
        try:
            with view, session.allowing(allowed_tools):
                result = session.prompt(text, lambda event: self._show(view, event))
        except KeyboardInterrupt:  # an interruption that came just as the run ended
            return None
        finally:
            self._view = None
            if view.watcher is not None:
                self.draft = view.watcher.take_typed().rstrip("\n")
        renderer.finish(result)
        self.folded = renderer.folded
        return self._after(result)

    def _show(self, view: TurnView, event: AgentEvent) -> None:
        view.on_event(event)
        if isinstance(event, TurnEnd | ContextCompacted):
            self.percent = context_percent(self.session)

    def compact(self, focus: str | None) -> None:
        """``/compact``: the summary's model call with the spinner, then the new context use."""
        session = self.session
        renderer = RunRenderer(self.console, session.definition.name, session.definition.color)
        view = self._view_for(renderer)
        failures: list[CompactionFailed] = []

        def show(event: AgentEvent) -> None:
            view.on_event(event)
            if isinstance(event, CompactionFailed):
                failures.append(event)

        try:
            with view:
                session.compact(focus, show)
        except CompactionError:
            if not failures:  # the failure was not shown yet
                raise
        self.percent = context_percent(session)

    def send_custom(self, command: CustomCommand, arguments: str) -> int | None:
        """A custom command: its expanded text as the prompt, with its allowed tools and
        model for that prompt."""
        prompt = command.expand(arguments)
        self.console.print(Text(f"/{command.name} → {command.path.name}", style="dim"))
        if command.model is None:
            return self.send(prompt, allowed_tools=command.allowed_tools)
        previous = self.session.model
        self.session.switch_model(command.model)
        try:
            return self.send(prompt, allowed_tools=command.allowed_tools)
        finally:
            self.session.use_model(previous)

    def run_shell(self, command: str) -> None:
        if not command:
            self.console.print(Text("!command runs a shell command, e.g. !git status", style="dim"))
            return
        self.console.print(Text(f"$ {command}", style="bold"))
        watcher = self._watcher()
        try:
            if watcher is not None:
                watcher.start()
            result = self.session.run_user_command(command)
        except KeyboardInterrupt:
            self.console.print(Text("(interrupted)", style="yellow"))
            return
        finally:
            if watcher is not None:
                watcher.stop()
        style = "red" if result.is_error else ""
        self.console.print(Padding(Text(result.content, style=style), (0, 0, 0, 2), expand=False))
        self.console.print(Text("(the output goes along with your next prompt)", style="dim"))

    def _after(self, result: RunResult) -> int | None:
        if result.signum in TERMINATING_SIGNALS:
            return result.exit_code
        return None

    # --- keys ------------------------------------------------------------------------

    def cycle_mode(self) -> None:
        """Shift+Tab: the next permission mode, for the next tool call."""
        session = self.session
        mode = next_mode(session.permission_mode, self._started_mode)
        session.set_permission_mode(mode)
        self.config.permissions = replace(self.config.permissions, mode=mode)

    def show_folded(self) -> None:
        """Ctrl-O: the last turn's shortened tool output in full."""
        if not self.folded:
            self.console.print(Text("No shortened tool output in the last turn.", style="dim"))
        for folded in self.folded:
            self.console.print(Text(f"● {folded.title}", style="bold"))
            self.console.print(Padding(Text(folded.content), (0, 0, 0, 4), expand=False))

    def progress(self, step: str, done: int, total: int) -> None:
        """The evidence check's steps, shown by the spinner ('' when it is done)."""
        if self._view is not None:
            count = f" {done}/{total}" if total else ""
            self._view.note = f"Checking the report against the code: {step}{count}" if step else ""

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The running turn's spinner and key watcher stopped (an approval is asked)."""
        view = self._view
        if view is None:
            yield
            return
        with view.paused():
            yield

    def _view_for(self, renderer: RunRenderer) -> TurnView:
        session = self.session

        def activity() -> str | None:
            current = session.tools.todos.current
            return current.active_form if current is not None else None

        return TurnView(
            self.console,
            renderer,
            status=lambda: status_text(session, self.percent, self.console.width),
            activity=activity,
            animate=self.terminal,
            watcher=self._watcher(),
        )

    def _watcher(self) -> KeyWatcher | None:
        if not self.terminal:
            return None
        return KeyWatcher(
            sys.stdin.fileno(), on_escape=interrupt_turn, on_shift_tab=self.cycle_mode
        )

    # --- sessions --------------------------------------------------------------------

    def command_names(self) -> list[tuple[str, str]]:
        builtin = [(c.name, c.summary) for c in COMMANDS]
        custom = [(c.name, c.description) for c in self.custom.values()]
        return builtin + [entry for entry in custom if slash.handler(entry[0]) is None]

    def open(self, config: SessionConfig, *, banner: bool = False) -> None:
        """Open a session for ``config`` (closing the current one first), then say so."""
        self.close()
        self._opening = []
        try:
            self._session = Session.open(
                config, approver=self.approver, warn=self.warn, progress=self.progress
            )
        except BaseException:
            for warning in self._opening:  # what went wrong before the failure may explain it
                self.console.print(Text(f"⚠ {warning}", style="yellow"))
            raise
        finally:
            warnings, self._opening = self._opening, None
        self.config = config
        self._started_mode = self.session.permission_mode
        self.percent = context_percent(self.session)
        self.custom = load_custom_commands(config.cwd.resolve(), warn=self.warn)
        if banner:
            self._banner(warnings)
        else:
            for warning in warnings:
                self.console.print(Text(f"⚠ {warning}", style="yellow"))

    def reopen(self, config: SessionConfig) -> bool:
        """Swap to a session for ``config``; on failure say why and go back to the current
        conversation. True when swapped."""
        previous = replace(self.config, resume=ResumeChoice(session=self.session.id))
        try:
            self.open(config)
            return True
        except UserError as error:
            self.console.print(Text(str(error), style="red"))
            self.open(previous)
            return False

    def pick_start(self) -> bool:
        """``--resume`` without an id: choose the session first; False when none or cancelled."""
        store = JsonlFileStore.for_cwd(self.config.cwd.resolve())
        chosen = pick_session(lookup.summaries(store), self.console, self.input.ask)
        if chosen is None:
            return False
        self.config.resume.session = chosen
        return True

    def warn(self, message: str) -> None:
        if self._opening is not None:
            self._opening.append(message)
        else:
            self.console.print(Text(f"⚠ {message}", style="yellow"))

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _banner(self, warnings: list[str]) -> None:
        session = self.session
        definition = session.definition
        line = agent_label(definition.name, definition.color)
        line.append(f"  {session.model.model_id} · {session.cwd}", style="dim")
        self.console.print(line)
        sandbox = session.sandbox
        if sandbox == "none":
            if not any("sandbox" in warning for warning in warnings):  # the warning says why
                self.console.print(Text("⚠ shell commands are NOT sandboxed", style="yellow"))
        else:
            self.console.print(Text(f"sandbox: {sandbox} (shell commands sandboxed)", style="dim"))
        for warning in warnings:
            self.console.print(Text(f"⚠ {warning}", style="yellow"))
        if session.resumed:
            count = len(session.prompts)
            how = f"Forked {session.forked_from} into" if session.forked_from else "Resumed"
            self.console.print(
                Text(f"{how} session {session.id} ({count} earlier prompts)", style="dim")
            )
        self.console.print(
            Text(
                "/help for commands · Esc interrupts · Ctrl-D exits · @ attaches files", style="dim"
            )
        )
