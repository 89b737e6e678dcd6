"""The one table of the interactive mode's commands, keys and input prefixes.

``/help`` prints it and docs/interactive.md holds it (a test checks that the page matches);
after changing it, run ``python -m backend_agent.ui.reference docs/interactive.md``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Group, RenderableType

from backend_agent.ui.tables import two_columns


@dataclass(frozen=True)
class CommandInfo:
    """A slash command: ``/name args``, what it does, and other names it answers to."""

    name: str
    args: str
    summary: str
    aliases: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.args}".rstrip()


@dataclass(frozen=True)
class KeyInfo:
    """A key (or typed prefix) and what it does."""

    keys: str
    summary: str


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("help", "", "Show these commands and keys"),
    CommandInfo("clear", "", "Start a new conversation (the old one can still be resumed)"),
    CommandInfo(
        "compact", "[focus]", "Summarise the conversation to free context; focus: what to keep"
    ),
    CommandInfo("resume", "[id]", "Pick an earlier session of this directory and continue it"),
    CommandInfo("rewind", "", "Go back to before an earlier prompt: code, conversation or both"),
    CommandInfo(
        "model", "[name]", "Show the model, or switch for the next turn (opus, sonnet, openai:…)"
    ),
    CommandInfo("cost", "", "Tokens, cache share and cost of this session, per model"),
    CommandInfo(
        "context", "", "Context window use by part: system prompt, tools, messages, memory"
    ),
    CommandInfo("agents", "[name]", "List the agents, or switch to one for the next turn"),
    CommandInfo("mcp", "[reconnect <server>]", "MCP servers, their status and tools; reconnect"),
    CommandInfo(
        "permissions",
        "[allow|remove <rule>]",
        "Rules in force and where each comes from; add or remove an allow rule",
    ),
    CommandInfo("status", "", "Version, model, directory, permission mode, sandbox, session id"),
    CommandInfo("memory", "[number]", "List the memory files (AGENTS.md, CLAUDE.md); edit one"),
    CommandInfo("init", "[--force]", "Write a starting AGENTS.md: stack, test commands, endpoints"),
    CommandInfo("todos", "", "Show the agent's todo list"),
    CommandInfo("exit", "", "Leave (Ctrl-D does too)", aliases=("quit",)),
)

KEYS: tuple[KeyInfo, ...] = (
    KeyInfo("Enter", "Send the prompt"),
    KeyInfo("Esc Enter, Alt+Enter", "New line"),
    KeyInfo("\\ Enter", "New line (a backslash at the end of the line)"),
    KeyInfo("Paste", "Pasted text keeps its lines (bracketed paste)"),
    KeyInfo("Esc", "While the agent works: interrupt the turn, as Ctrl-C does"),
    KeyInfo("Ctrl-C", "Interrupt the turn; at the prompt clear it; twice on an empty one: exit"),
    KeyInfo("Ctrl-D", "Exit (on an empty prompt)"),
    KeyInfo("Up, Down", "Earlier prompts of this project (kept in ~/.backend-agent/history)"),
    KeyInfo("Shift+Tab", "Cycle the permission mode: default → acceptEdits → plan"),
    KeyInfo("Tab", "Complete a /command or an @path"),
    KeyInfo("Ctrl-O", "Show in full the tool output the last turn shortened"),
)

PREFIXES: tuple[KeyInfo, ...] = (
    KeyInfo("/command", "Run a command: handled here, never sent to the model"),
    KeyInfo(
        "/name args",
        "A custom command from .claude/commands/name.md or ~/.claude/commands/name.md: "
        "its text, with $ARGUMENTS (and $1, $2…) filled in, is sent as the prompt",
    ),
    KeyInfo(
        "!command",
        "Run a shell command now, in the session's sandbox, without the model; the command "
        "and its output go along with your next prompt",
    ),
    KeyInfo(
        "@path",
        "Attach a file's content (a directory's listing) to the prompt; Tab completes the path",
    ),
)

BEGIN_MARK = "<!-- commands and keys: generated from backend_agent/ui/reference.py -->"
END_MARK = "<!-- end of generated section -->"


def find_command(word: str) -> CommandInfo | None:
    """The command a typed ``/word`` names (by name or alias), if any."""
    return next((c for c in COMMANDS if word == c.name or word in c.aliases), None)


def help_renderable(custom: list[tuple[str, str]]) -> RenderableType:
    """``/help``: commands, custom commands (``(usage, description)``), input and keys."""
    parts: list[RenderableType] = [
        two_columns([(c.usage, c.summary) for c in COMMANDS], **style("Commands")),
    ]
    if custom:
        parts.append(two_columns(list(custom), **style("Custom commands")))
    parts.append(two_columns([(p.keys, p.summary) for p in PREFIXES], **style("Input")))
    parts.append(two_columns([(k.keys, k.summary) for k in KEYS], **style("Keys")))
    return Group(*parts)


def style(title: str) -> dict[str, str]:
    return {"title": title, "label_style": "cyan"}


def reference_markdown() -> str:
    """The generated section of docs/interactive.md, marks included."""
    lines = [BEGIN_MARK, "", "### Commands", "", "| Command | What it does |", "|---|---|"]
    for command in COMMANDS:
        also = f" (also `/{'`, `/'.join(command.aliases)}`)" if command.aliases else ""
        lines.append(f"| `{_cell(command.usage)}` | {_cell(command.summary)}{also} |")
    lines += ["", "### Input", "", "| Typed | What it does |", "|---|---|"]
    lines += [f"| `{_cell(p.keys)}` | {_cell(p.summary)} |" for p in PREFIXES]
    lines += ["", "### Keys", "", "| Keys | What they do |", "|---|---|"]
    lines += [f"| {_keys_markdown(k.keys)} | {_cell(k.summary)} |" for k in KEYS]
    return "\n".join([*lines, "", END_MARK])


def _keys_markdown(keys: str) -> str:
    return ", ".join(f"`{_cell(key.strip())}`" for key in keys.split(","))


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a ``|`` would end the cell."""
    return text.replace("|", "\\|")


def with_reference(page: str) -> str:
    """``page`` with its generated section replaced by the current table."""
    start, end = page.find(BEGIN_MARK), page.find(END_MARK)
    if start < 0 or end < start:
        raise ValueError(f"the page has no generated section ({BEGIN_MARK} … {END_MARK})")
    return page[:start] + reference_markdown() + page[end + len(END_MARK) :]


def main(argv: list[str]) -> int:
    """Rewrite the generated section of the page named in ``argv``."""
    if len(argv) != 1:
        print("usage: python -m backend_agent.ui.reference docs/interactive.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(with_reference(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
