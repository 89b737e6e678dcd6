"""Terminal rendering of a run with rich: answers as Markdown (each block as soon as it is
complete), reasoning dimmed, one line per tool call with the first lines of its result, edits
as colored diffs, and the todo list as a checklist.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from backend_agent.messages import TextDelta, ThinkingDelta, ToolUseBlock
from backend_agent.runtime.events import (
    AgentEvent,
    CompactionFailed,
    ContextCompacted,
    PromptSent,
    ToolEnd,
    ToolStart,
    TurnEnd,
)
from backend_agent.runtime.results import RunResult
from backend_agent.tools.base import PlannedChange
from backend_agent.tools.todo import CHECKLIST_TOOL, Todo
from backend_agent.ui.approval import colored_diff
from backend_agent.ui.markdown_stream import MarkdownStream

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
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit"})
MAX_ARGUMENT_CHARS = 80
RESULT_LINES = 3  # of a tool result, shown; the rest is folded (Ctrl-O shows it)
DIFF_LINES = 40
DEFAULT_AGENT_COLOR = "#A0A0A0"
THINKING_MARK = "✻ "
THINKING_STYLE = "dim italic"
RESULT_MARK = "  ⎿ "
CHECKLIST_MARKS = {"completed": "☒", "in_progress": "◼", "pending": "☐"}


def key_argument(call: ToolUseBlock) -> str:
    """The call's most telling argument on one line, shortened to fit."""
    field = KEY_ARGUMENT.get(call.name)
    value: Any = call.input.get(field) if field else None
    if value is None:
        value = next((v for v in call.input.values() if isinstance(v, str)), "")
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_ARGUMENT_CHARS else text[: MAX_ARGUMENT_CHARS - 1] + "…"


def _plain(content: str) -> str:
    return content.replace("<tool_use_error>", "").replace("</tool_use_error>", "")


def outcome(content: str, is_error: bool) -> str:
    """A short summary of a tool result: its first line, and how many lines followed."""
    lines = _plain(content).splitlines()
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


def checklist(todos: list[Todo]) -> Text:
    """The todo list as checkboxes: done struck through, the current one bold."""
    text = Text()
    for index, item in enumerate(todos):
        style = {"completed": "dim strike", "in_progress": "bold"}.get(item.status, "")
        text.append(f"{CHECKLIST_MARKS[item.status]} {item.content}", style=style)
        if index < len(todos) - 1:
            text.append("\n")
    return text if todos else Text("(the todo list is empty)", style="dim")


@dataclass(frozen=True)
class FoldedResult:
    """A tool result shown shortened: the call's line and the whole text (for Ctrl-O)."""

    title: str
    content: str


class RunRenderer:
    """Prints a run's events as they come. ``planned_change`` says what an edit will change
    (read before it runs, for the diff); ``todos`` gives the session's list."""

    def __init__(
        self,
        console: Console,
        name: str,
        color: str | None,
        *,
        planned_change: Callable[[str, dict[str, Any]], PlannedChange | None] | None = None,
        todos: Callable[[], list[Todo]] | None = None,
    ) -> None:
        self.console = console
        self.name = name
        self.color = color or DEFAULT_AGENT_COLOR
        self.planned_change = planned_change
        self.todos = todos
        self.folded: list[FoldedResult] = []  # results shortened in this run
        self._counted = 0  # output tokens of the finished model turns
        self._markdown = MarkdownStream()
        self._thinking = ""
        self._speaking = False  # the agent's mark was printed for the current answer
        self._changes: dict[str, PlannedChange | None] = {}
        self._streamed = 0  # characters streamed in the current model turn

    @property
    def tail(self) -> str:
        """The text of the answer not yet rendered (an unfinished block)."""
        return self._markdown.tail

    @property
    def thinking(self) -> bool:
        return bool(self._thinking)

    @property
    def output_tokens(self) -> int:
        """Tokens the model wrote: as counted for finished turns, estimated for this one."""
        return self._counted + self._streamed // 4

    def on_event(self, event: AgentEvent) -> None:
        if isinstance(event, TextDelta):
            self._end_thinking()
            self._streamed += len(event.text)
            for block in self._markdown.feed(event.text):
                self._print_answer(block)
        elif isinstance(event, ThinkingDelta):
            self._streamed += len(event.text)
            self._thinking += event.text
        elif isinstance(event, ToolStart):
            self._end_text()
            self._tool_started(event.call)
        elif isinstance(event, ToolEnd):
            self._tool_ended(event)
        elif isinstance(event, TurnEnd):
            self._end_text()
            self._counted += event.usage.output_tokens
            self._streamed = 0
        elif isinstance(event, ContextCompacted | CompactionFailed):
            self._end_text()
            self.console.print(context_line(event))
            self._speaking = False
        elif isinstance(event, PromptSent) and event.origin == "feedback":
            self._end_text()  # a stop hook or the evidence check sends the model back to work
            self.console.print(Text(event.message.text, style="yellow"))
            self._speaking = False

    def finish(self, result: RunResult) -> None:
        """End the answer and say how the run ended when it was not a plain success."""
        self._end_text()
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

    # --- pieces -------------------------------------------------------------------------

    def _print_answer(self, block: str) -> None:
        from rich.markdown import Markdown  # with its parser and highlighter: on first use

        mark = Text("● ", style=self.color) if not self._speaking else Text("  ")
        if not self._speaking:
            self.console.print(agent_label(self.name, self.color))
        self._speaking = True
        grid = Table.grid()
        grid.add_column(no_wrap=True)
        grid.add_column()
        # Markdown rendered on a terminal; written as it is to a file or a pipe
        body = Markdown(block) if self.console.is_terminal else Text(block)
        grid.add_row(mark, body)
        self.console.print(grid)

    def _end_thinking(self) -> None:
        if self._thinking.strip():
            text = Text(THINKING_MARK + self._thinking.strip(), style=THINKING_STYLE)
            self.console.print(text)
        self._thinking = ""

    def _end_text(self) -> None:
        self._end_thinking()
        rest = self._markdown.flush()
        if rest:
            self._print_answer(rest)

    def _tool_started(self, call: ToolUseBlock) -> None:
        self._speaking = False
        if call.name in EDIT_TOOLS and self.planned_change is not None:
            self._changes[call.id] = self.planned_change(call.name, call.input)
        if call.name == CHECKLIST_TOOL:
            return  # the checklist says it all, once the list is updated
        line = Text.assemble(("● ", self.color), (call.name, "bold"))
        line.append(f"({key_argument(call)})")
        self.console.print(line)

    def _tool_ended(self, event: ToolEnd) -> None:
        call, result = event.call, event.result
        change = self._changes.pop(call.id, None)
        if call.name == CHECKLIST_TOOL and not result.is_error and self.todos is not None:
            title = Text.assemble(("● ", self.color), ("Update todos", "bold"))
            self.console.print(title)
            self.console.print(Padding(checklist(self.todos()), (0, 0, 0, 4), expand=False))
            return
        if call.name == CHECKLIST_TOOL:
            self.console.print(Text.assemble(("● ", self.color), (call.name, "bold")))
        if change is not None and not result.is_error:
            self._print_diff(change)
            return
        self._print_result(call, result.content, result.is_error, event.denied)

    def _print_result(self, call: ToolUseBlock, content: str, is_error: bool, denied: bool) -> None:
        lines = _plain(content).rstrip("\n").splitlines() or ["(no output)"]
        style = "red" if is_error else "dim"
        prefix = "denied: " if denied else "error: " if is_error and not denied else ""
        shown = lines[:RESULT_LINES]
        for index, line in enumerate(shown):
            mark = RESULT_MARK if index == 0 else " " * len(RESULT_MARK)
            head = prefix if index == 0 else ""
            text = line if len(line) <= 2 * MAX_ARGUMENT_CHARS else line[:159] + "…"
            self.console.print(Text(f"{mark}{head}{text}", style=style), soft_wrap=True)
        hidden = len(lines) - len(shown)
        if hidden > 0:
            title = f"{call.name}({key_argument(call)})"
            self.folded.append(FoldedResult(title, _plain(content)))
            more = f"{' ' * len(RESULT_MARK)}… +{hidden} lines (ctrl+o to expand)"
            self.console.print(Text(more, style="dim"))

    def _print_diff(self, change: PlannedChange) -> None:
        lines = colored_diff(change).split("\n")
        body = [line for line in lines if line.plain and not line.plain.startswith(("+++", "---"))]
        added = sum(line.plain.startswith("+") for line in body)
        removed = sum(line.plain.startswith("-") for line in body)
        what = "Created" if change.is_new else "Updated"
        summary = f"{RESULT_MARK}{what} {change.path.name}: +{added} -{removed}"
        self.console.print(Text(summary, style="dim"))
        shown: list[RenderableType] = list(body[:DIFF_LINES])
        if len(body) > DIFF_LINES:
            shown.append(Text(f"… +{len(body) - DIFF_LINES} more diff lines", style="dim"))
        for line in shown:
            self.console.print(Padding(line, (0, 0, 0, 4), expand=False), soft_wrap=True)


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
