"""Terminal rendering of a run with rich: the agent's text as it streams (its reasoning dimmed),
and one line per tool call with its key argument and outcome.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from backend_agent.messages import TextDelta, ThinkingDelta, ToolUseBlock
from backend_agent.runtime.events import (
    AgentEvent,
    CompactionFailed,
    ContextCompacted,
    PromptSent,
    ToolEnd,
    ToolStart,
)
from backend_agent.runtime.results import RunResult

# The input field that best says what a call does, per tool (others: the first string field).
KEY_ARGUMENT = {
    "Bash": "command",
    "Read": "file_path",
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "Glob": "pattern",
    "Grep": "pattern",
    "BashOutput": "bash_id",
    "KillShell": "shell_id",
}
MAX_ARGUMENT_CHARS = 80
DEFAULT_AGENT_COLOR = "#A0A0A0"
THINKING_MARK = "✻ "
THINKING_STYLE = "dim italic"


def key_argument(call: ToolUseBlock) -> str:
    """The call's most telling argument on one line, shortened to fit."""
    field = KEY_ARGUMENT.get(call.name)
    value: Any = call.input.get(field) if field else None
    if value is None:
        value = next((v for v in call.input.values() if isinstance(v, str)), "")
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_ARGUMENT_CHARS else text[: MAX_ARGUMENT_CHARS - 1] + "…"


def outcome(content: str, is_error: bool) -> str:
    """A short summary of a tool result: its first line, and how many lines followed."""
    lines = content.replace("<tool_use_error>", "").replace("</tool_use_error>", "").splitlines()
    first = lines[0].strip() if lines else "(no output)"
    if len(first) > MAX_ARGUMENT_CHARS:
        first = first[: MAX_ARGUMENT_CHARS - 1] + "…"
    more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
    return f"{'error: ' if is_error else ''}{first}{more}"


def run_summary(result: RunResult) -> str:
    """Turns, tokens and cost of a run; input counts cached tokens too, so it is what was read."""
    usage = result.usage
    cached = usage.cache_read_input_tokens
    read = usage.input_tokens + usage.cache_creation_input_tokens + cached
    turns = f"{result.num_turns} turn{'' if result.num_turns == 1 else 's'}"
    cache = f" ({cached:,} from cache)" if cached else ""
    cost = f"${result.total_cost_usd:.4f}" if result.total_cost_usd else "$0"
    if not result.cost_known:  # a model served from a base URL without a known price
        cost = f"{cost} + unknown" if result.total_cost_usd else "cost unknown"
    return f"{turns} · {read:,} tokens in{cache}, {usage.output_tokens:,} out · {cost}"


def context_line(event: ContextCompacted | CompactionFailed) -> Text:
    """One line saying the context was compacted (from how many tokens to how many), or why
    it was not."""
    if isinstance(event, CompactionFailed):
        return Text(f"✻ {event.message}", style="yellow")
    done = event.compaction
    how = "compacted" if done.trigger == "auto" else "compacted on request"
    return Text(
        f"✻ Context {how}: {done.pre_tokens:,} → {done.post_tokens:,} tokens "
        "(your messages kept word for word, the rest summarised)",
        style="dim",
    )


def agent_label(name: str, color: str | None) -> Text:
    """The agent's name, bold, in its color (truecolor)."""
    return Text(name, style=f"bold {color or DEFAULT_AGENT_COLOR}")


class RunRenderer:
    """Prints a run's events as they come: text streams in place, tool calls one line each."""

    def __init__(self, console: Console, name: str, color: str | None) -> None:
        self.console = console
        self.name = name
        self.color = color or DEFAULT_AGENT_COLOR
        self._mid_line = False  # the last thing printed was streamed text without a newline
        self._speaking = False  # the agent's label was printed for the current answer
        self._thinking = False  # the last thing streamed was reasoning

    def on_event(self, event: AgentEvent) -> None:
        if isinstance(event, TextDelta):
            if self._thinking:
                self._end_line()
                self._thinking = False
            if not self._speaking:
                self.console.print(agent_label(self.name, self.color), end=" ")
                self._speaking = True
            self._stream(event.text, "")
        elif isinstance(event, ThinkingDelta):
            if not self._thinking:
                self._end_line()
                self.console.print(THINKING_MARK, end="", style=THINKING_STYLE)
                self._thinking = True
            self._stream(event.text, THINKING_STYLE)
        elif isinstance(event, ToolStart):
            self._thinking = False
            self._end_line()
            line = Text.assemble(("● ", self.color), (event.call.name, "bold"))
            line.append(f"({key_argument(event.call)})")
            self.console.print(line)
        elif isinstance(event, ToolEnd):
            style = "red" if event.result.is_error else "dim"
            summary = "denied: " if event.denied else ""
            summary += outcome(event.result.content, event.result.is_error and not event.denied)
            self.console.print(Text(f"  └ {summary}", style=style))
            self._speaking = False
        elif isinstance(event, ContextCompacted | CompactionFailed):
            self._thinking = False
            self._end_line()
            self.console.print(context_line(event))
        elif isinstance(event, PromptSent) and event.origin == "feedback":
            self._end_line()  # a stop hook or the evidence check sends the model back to work
            self.console.print(Text(event.message.text, style="yellow"))
            self._speaking = False

    def finish(self, result: RunResult) -> None:
        """End the answer and say how the run ended when it was not a plain success."""
        self._end_line()
        self._speaking = self._thinking = False
        if result.cancelled:
            self.console.print(Text("(cancelled)", style="yellow"))
        elif result.is_error:
            self.console.print(Text(f"{result.subtype}: {result.result}", style="red"))
        self._print_check(result)
        self.console.print(Text(run_summary(result), style="dim"))

    def _print_check(self, result: RunResult) -> None:
        """The evidence check's verdict on the report (the block it appended, if any)."""
        report = result.report or {}
        if not report.get("checked"):
            return
        if report.get("verified"):
            self.console.print(Text("✓ report verified against the code", style="green"))
            return
        block = result.result[result.result.rfind("### Evidence check") :]
        self.console.print(Text(block, style="yellow"))

    def _stream(self, text: str, style: str) -> None:
        self.console.print(text, end="", style=style, markup=False, highlight=False)
        self._mid_line = not text.endswith("\n")

    def _end_line(self) -> None:
        if self._mid_line:
            self.console.print()
            self._mid_line = False


def evidence_progress(stream: TextIO | None = None) -> Callable[[str, int, int], None]:
    """Shows the evidence check's steps on one line of ``stream`` (stderr) when it is a
    terminal; an empty step clears the line."""
    out = stream or sys.stderr

    def show(step: str, done: int, total: int) -> None:
        if not out.isatty():
            return
        count = f" {done}/{total}" if total else ""
        line = f"checking the report against the code: {step}{count}" if step else ""
        out.write(f"\r\x1b[K{line}")
        out.flush()

    return show
