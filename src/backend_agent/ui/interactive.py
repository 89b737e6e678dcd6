"""The basic interactive mode: a prompt_toolkit prompt, answers streamed with rich.

Ctrl-C at the prompt clears the line; during a turn it cancels the turn. Ctrl-D (or ``/exit``)
ends the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from backend_agent.runtime.assembly import AssembledRun, assemble
from backend_agent.runtime.events import AgentEvent
from backend_agent.runtime.options import RunOptions
from backend_agent.ui.render import RunRenderer, agent_label

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

EXIT_COMMANDS = ("/exit", "/quit")


def run_interactive(
    options: RunOptions,
    first_prompt: str | None = None,
    *,
    prompt_session: PromptSession[str] | None = None,
    console: Console | None = None,
) -> int:
    """Read prompts until Ctrl-D, running each one; returns the exit status (0)."""
    from prompt_toolkit import PromptSession

    console = console or Console(highlight=False)
    assembled = assemble(options, interactive=True)
    try:
        _print_banner(console, assembled)
        session: PromptSession[str] = prompt_session or PromptSession()
        pending = first_prompt
        while True:
            if pending is None:
                try:
                    pending = session.prompt("> ")
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
            prompt, pending = pending.strip(), None
            if prompt in EXIT_COMMANDS:
                break
            if prompt:
                _run_prompt(console, assembled, prompt)
    finally:
        assembled.close()
    return 0


def _run_prompt(console: Console, assembled: AssembledRun, prompt: str) -> None:
    definition = assembled.definition
    renderer = RunRenderer(console, definition.name, definition.color)

    def on_event(event: AgentEvent) -> None:
        renderer.on_event(event)
        assembled.transcript.on_event(event)

    result = assembled.agent.run(prompt, on_event)
    assembled.transcript.on_result(result)
    renderer.finish(result)


def _print_banner(console: Console, assembled: AssembledRun) -> None:
    definition = assembled.definition
    line = agent_label(definition.name, definition.color)
    line.append(f"  {assembled.model.model_id} · {assembled.options.cwd}", style="dim")
    console.print(line)
    sandbox = assembled.session.sandbox
    note = "shell commands are NOT sandboxed" if sandbox == "none" else "shell commands sandboxed"
    console.print(
        Text(f"sandbox: {sandbox} ({note})", style="yellow" if sandbox == "none" else "dim")
    )
    console.print(Text("Ctrl-C cancels a turn · Ctrl-D exits", style="dim"))
