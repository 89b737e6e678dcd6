"""Split a shell command into the simple commands it would run, with a real parser (bashlex).

Every command inside ``&&``, ``||``, ``;``, ``|``, newlines, ``$(…)``, backticks, process
substitutions, subshells, groups and loops is returned, so a permission rule has to allow each
of them; anything bashlex cannot parse (or a construct we do not analyse) is reported as
unparsable, and the caller asks the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bashlex

_HEREDOC_TYPES = frozenset({"<<", "<<-", "<<<"})
_DYNAMIC_KINDS = frozenset({"parameter", "commandsubstitution", "processsubstitution"})


class UnparsableCommand(Exception):
    """The command could not be split safely; the message says why."""


@dataclass(frozen=True)
class Word:
    """One shell word after quote removal; ``dynamic`` when its value depends on expansions."""

    text: str
    dynamic: bool = False


@dataclass(frozen=True)
class SimpleCommand:
    """One command the shell would execute: its source text, assignments and words."""

    text: str
    assignments: tuple[str, ...]
    words: tuple[Word, ...]

    @property
    def name(self) -> str:
        return self.words[0].text if self.words else ""

    @property
    def arguments(self) -> tuple[Word, ...]:
        return self.words[1:]


@dataclass
class ParsedCommand:
    """Every simple command in a command line, and every file it redirects to or from."""

    commands: list[SimpleCommand] = field(default_factory=list)
    redirect_targets: list[Word] = field(default_factory=list)


def split_command(command: str) -> ParsedCommand:
    """Parse ``command``; raise UnparsableCommand when it cannot be analysed with confidence."""
    try:
        trees = bashlex.parse(command)
    except Exception as error:  # bashlex raises many types (ParsingError, NotImplementedError…)
        raise UnparsableCommand(f"the shell parser could not read it ({error})") from error
    parsed = ParsedCommand()
    for tree in trees:
        _walk(tree, command, parsed)
    if not parsed.commands:
        raise UnparsableCommand("it contains no command")
    return parsed


def _walk(node: Any, source: str, parsed: ParsedCommand) -> None:
    kind = node.kind
    if kind == "command":
        _add_command(node, source, parsed)
    elif kind in ("list", "pipeline", "if", "for", "while", "until"):
        for part in node.parts:
            _walk(part, source, parsed)
    elif kind == "compound":
        for part in node.list:
            _walk(part, source, parsed)
        for redirect in getattr(node, "redirects", []):
            _walk(redirect, source, parsed)
    elif kind in ("commandsubstitution", "processsubstitution"):
        _walk(node.command, source, parsed)
    elif kind in ("word", "assignment"):
        for part in getattr(node, "parts", []):
            _walk(part, source, parsed)
    elif kind == "redirect":
        _add_redirect(node, source, parsed)
    elif kind in ("reservedword", "operator", "pipe", "parameter", "tilde", "heredoc"):
        return
    else:
        raise UnparsableCommand(f"it uses a shell construct that is not analysed ({kind})")


def _add_command(node: Any, source: str, parsed: ParsedCommand) -> None:
    assignments: list[str] = []
    words: list[Word] = []
    for part in node.parts:
        if part.kind == "assignment":
            assignments.append(part.word)
        elif part.kind == "word":
            words.append(Word(part.word, _is_dynamic(part)))
        _walk(part, source, parsed)
    start, end = node.pos
    parsed.commands.append(SimpleCommand(source[start:end], tuple(assignments), tuple(words)))


def _add_redirect(node: Any, source: str, parsed: ParsedCommand) -> None:
    target = node.output
    if not hasattr(target, "word"):  # a file descriptor: 2>&1, <&- …
        return
    for part in getattr(target, "parts", []):
        _walk(part, source, parsed)
    heredoc = getattr(node, "heredoc", None)
    if heredoc is not None and ("$(" in heredoc.value or "`" in heredoc.value):
        raise UnparsableCommand("its here-document may run commands ($(…) or backticks)")
    if node.type in _HEREDOC_TYPES or target.word == "-" or target.word.isdigit():
        return
    parsed.redirect_targets.append(Word(target.word, _is_dynamic(target)))


def _is_dynamic(node: Any) -> bool:
    return any(
        part.kind in _DYNAMIC_KINDS or _is_dynamic(part) for part in getattr(node, "parts", [])
    )
