"""TodoWrite: the model's checklist for the task at hand, kept as session state.

The contract is the one models were trained on: each call sends the whole list, every item with
``content`` (what to do), ``status`` (pending, in_progress, completed) and ``activeForm`` (the
same, as it is being done). It changes nothing outside the session, so it needs no permission;
the interactive view shows it as a checklist, and compaction carries it over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from backend_agent.messages import Message, ToolResultBlock, ToolUseBlock
from backend_agent.tools.base import ToolResult
from backend_agent.tools.builtin import BuiltinTool, ToolInput

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession

CHECKLIST_TOOL = "TodoWrite"
TodoStatus = Literal["pending", "in_progress", "completed"]
STATUS_MARKS: dict[str, str] = {"completed": "[x]", "in_progress": "[~]", "pending": "[ ]"}


@dataclass(frozen=True)
class Todo:
    """One item of the list."""

    content: str
    status: TodoStatus
    active_form: str

    def as_dict(self) -> dict[str, str]:
        return {"content": self.content, "status": self.status, "activeForm": self.active_form}


class TodoList:
    """The session's current list; ``listeners`` hear of every change (e.g. a UI)."""

    def __init__(self) -> None:
        self.items: list[Todo] = []
        self.listeners: list[Callable[[list[Todo]], None]] = []

    def replace(self, items: Iterable[Todo]) -> None:
        self.items = list(items)
        for listener in self.listeners:
            listener(self.items)

    @property
    def current(self) -> Todo | None:
        """The item being worked on (the first in progress), if any."""
        return next((item for item in self.items if item.status == "in_progress"), None)

    def as_text(self) -> str:
        """The list as plain text for the model (a compacted context carries it); '' if empty."""
        if not self.items:
            return ""
        lines = [f"{STATUS_MARKS[item.status]} {item.content}" for item in self.items]
        return "The todo list so far (keep it up to date with TodoWrite):\n" + "\n".join(lines)


class TodoItem(ToolInput):
    """An item as the model sends it."""

    content: str = Field(min_length=1, description="What to do, imperative: 'Run the tests'.")
    status: TodoStatus = Field(description="pending, in_progress or completed.")
    activeForm: str = Field(
        min_length=1, description="The same while it is being done: 'Running the tests'."
    )


class TodoWriteInput(ToolInput):
    todos: list[TodoItem] = Field(description="The whole updated list, in order.")


class TodoWrite(BuiltinTool[TodoWriteInput]):
    name = CHECKLIST_TOOL
    input_model = TodoWriteInput
    description = (
        "Keep a checklist of the current task; the user sees it as you work. Use it when the "
        "work has three or more steps, or the user lists several things to do: write the list "
        "first, set one item in_progress before you start it, and set it completed as soon as "
        "it is done (not in batches later). Add items you discover on the way; remove ones that "
        "no longer apply. Each call sends the whole list. `content` says what to do ('Add the "
        "migration'), `activeForm` says it while it is happening ('Adding the migration'). "
        "Not needed for a single simple step."
    )

    def execute(self, args: TodoWriteInput, session: ToolSession) -> ToolResult:
        todos = [Todo(i.content, i.status, i.activeForm) for i in args.todos]
        session.todos.replace(todos)
        return ToolResult(summary(todos))


def summary(todos: list[Todo]) -> str:
    """What the model is told after an update: the counts and the item in progress."""
    if not todos:
        return "The todo list is now empty."
    done = sum(item.status == "completed" for item in todos)
    working = [item for item in todos if item.status == "in_progress"]
    now = f', in progress: "{working[0].content}"' if working else ", none in progress"
    return (
        f"Todo list updated: {done} of {len(todos)} done{now}. Keep it current: mark each "
        "item completed as soon as it is done."
    )


def latest_todos(messages: list[Message]) -> list[Todo]:
    """The list as the conversation left it: the input of the last TodoWrite call that
    succeeded (for a resumed or rewound session); [] when there is none."""
    failed = {
        block.tool_use_id
        for message in messages
        for block in message.content
        if isinstance(block, ToolResultBlock) and block.is_error
    }
    for message in reversed(messages):
        for block in reversed(message.content):
            if (
                isinstance(block, ToolUseBlock)
                and block.name == CHECKLIST_TOOL
                and block.id not in failed
            ):
                parsed = _parse(block.input)
                if parsed is not None:
                    return parsed
    return []


def _parse(tool_input: object) -> list[Todo] | None:
    try:
        args = TodoWriteInput.model_validate(tool_input)
    except ValueError:
        return None
    return [Todo(i.content, i.status, i.activeForm) for i in args.todos]
