"""The terminal approver: show exactly what a tool call will do, then yes once / yes always / no.

It renders with rich (the command, or a colored diff of the edit) and reads the answer with
prompt_toolkit, so tests drive it with a pipe input instead of a TTY.
"""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING

from backend_agent.permissions.approval import Approval, ApprovalRequest
from backend_agent.tools.base import PlannedChange

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output
    from rich.console import Console, RenderableType
    from rich.text import Text


class TerminalApprover:
    """Asks in the terminal: rich for the display, prompt_toolkit for the answer."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self._input = input
        self._output = output

    def approve(self, request: ApprovalRequest) -> Approval:
        from rich.panel import Panel

        self.console.print(
            Panel(describe(request), title=f"[bold]{request.tool}[/bold]", title_align="left")
        )
        self.console.print(f"[yellow]Needs approval:[/yellow] {request.reason}")
        options = ["1. Yes, this once"]
        if request.suggestions:
            saved = ", ".join(request.suggestions)
            options.append(f"2. Yes, and don't ask again (saves {saved})")
        options.append(f"{len(options) + 1}. No, and tell the model what to do instead")
        for line in options:
            self.console.print(f"  {line}", markup=False, highlight=False)
        valid = {str(i + 1) for i in range(len(options))}
        answer = ""
        while answer not in valid:
            answer = self._ask(f"Choose [{'/'.join(sorted(valid))}]: ").strip()
        if answer == "1":
            return Approval("once")
        if answer == "2" and request.suggestions:
            return Approval("always")
        return Approval("no", self._ask("Note for the model (Enter to skip): ").strip())

    def notify(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def _ask(self, message: str) -> str:
        from prompt_toolkit import PromptSession

        session: PromptSession[str] = PromptSession(input=self._input, output=self._output)
        return session.prompt(message)


def describe(request: ApprovalRequest) -> RenderableType:
    """What will happen: the shell command, a colored diff of the file change, or the input."""
    from rich.syntax import Syntax
    from rich.text import Text

    if request.tool == "Bash" and isinstance(request.tool_input.get("command"), str):
        return Syntax(request.tool_input["command"], "bash", word_wrap=True)
    if request.change is not None:
        return colored_diff(request.change)
    return Text(json.dumps(request.tool_input, indent=2, ensure_ascii=False))


def colored_diff(change: PlannedChange) -> Text:
    """A unified diff of ``change``: removed lines red, added lines green, hunks cyan."""
    from rich.text import Text

    label = str(change.path)
    lines = difflib.unified_diff(
        change.before.splitlines(keepends=True),
        change.after.splitlines(keepends=True),
        fromfile="/dev/null" if change.is_new else label,
        tofile=label,
    )
    text = Text()
    for line in lines:
        line = line if line.endswith("\n") else line + "\n"
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        text.append(line, style=style)
    if not text:
        text.append(f"{label}: no change to the text\n")
    return text
