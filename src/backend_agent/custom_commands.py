"""Custom slash commands in Claude Code's format: Markdown prompts with optional frontmatter.

``.claude/commands/<name>.md`` (project) and ``~/.claude/commands/<name>.md`` (user) become
``/<name>``; files in subdirectories keep their file name, and the directory shows in the
description (``(project:frontend)``). A project command hides a user command of the same name.
Frontmatter fields: ``description``, ``argument-hint``, ``allowed-tools`` (rules allowed without
asking while the command's prompt runs) and ``model`` (for that prompt). In the text,
``$ARGUMENTS`` is everything after the command and ``$1`` … ``$9`` the single arguments.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from backend_agent.definitions import DefinitionError, split_frontmatter
from backend_agent.permissions.rules import split_rule_list

CommandSource = Literal["project", "user"]
_PLACEHOLDER = re.compile(r"\$ARGUMENTS|\$([1-9])")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


@dataclass(frozen=True)
class CustomCommand:
    """One command file, read."""

    name: str
    text: str
    description: str
    source: CommandSource
    path: Path
    argument_hint: str = ""
    allowed_tools: tuple[str, ...] = ()
    model: str | None = None

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.argument_hint}".rstrip()

    def expand(self, arguments: str) -> str:
        """The prompt: the text with ``$ARGUMENTS`` and ``$1`` … ``$9`` filled in (missing
        positions become empty); arguments are appended when the text uses none of them."""
        arguments = arguments.strip()
        try:
            words = shlex.split(arguments)
        except ValueError:  # an unbalanced quote: plain words then
            words = arguments.split()
        uses = _PLACEHOLDER.search(self.text) is not None
        text = _PLACEHOLDER.sub(  # one pass: a "$1" inside the arguments stays as typed
            lambda m: arguments if m.group(1) is None else _nth(words, int(m.group(1))), self.text
        )
        if arguments and not uses:
            text = f"{text.rstrip()}\n\n{arguments}"
        return text.strip()


def _nth(words: list[str], position: int) -> str:
    return words[position - 1] if position <= len(words) else ""


def load_custom_commands(
    cwd: Path, home: Path | None = None, warn: Callable[[str], None] | None = None
) -> dict[str, CustomCommand]:
    """Every custom command by name, project over user; unreadable files go to ``warn``."""
    home = Path.home() if home is None else home
    found: dict[str, CustomCommand] = {}
    places: tuple[tuple[CommandSource, Path], ...] = (
        ("user", home / ".claude" / "commands"),
        ("project", cwd / ".claude" / "commands"),
    )
    for source, directory in places:
        for command in _read_dir(directory, source, warn):
            found[command.name] = command
    return found


def _read_dir(
    directory: Path, source: CommandSource, warn: Callable[[str], None] | None
) -> list[CustomCommand]:
    if not directory.is_dir():
        return []
    commands = []
    for path in sorted(directory.rglob("*.md")):
        try:
            command = read_command(path, directory, source)
        except DefinitionError as error:
            if warn is not None:
                warn(f"{error}; command skipped")
            continue
        if command is not None:
            commands.append(command)
    return commands


def read_command(path: Path, root: Path, source: CommandSource) -> CustomCommand | None:
    """The command in ``path`` (under ``root``); None when its name cannot be typed."""
    name = path.stem
    if not _NAME.match(name):
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionError(f"{path}: cannot read the command ({error})") from error
    fields: dict[str, Any] = {}
    body = text
    if text.lstrip("\ufeff").startswith("---"):
        fields, body = split_frontmatter(text, str(path))
    namespace = path.parent.relative_to(root).as_posix()
    where = source if namespace == "." else f"{source}:{namespace}"
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    description = str(fields.get("description") or first_line[:80])
    return CustomCommand(
        name=name,
        text=body,
        description=f"{description} ({where})",
        source=source,
        path=path,
        argument_hint=str(fields.get("argument-hint") or ""),
        allowed_tools=tuple(_tool_list(fields.get("allowed-tools"))),
        model=str(fields["model"]) if fields.get("model") else None,
    )


def _tool_list(value: object) -> list[str]:
    if isinstance(value, str):
        return split_rule_list(value)
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return []
