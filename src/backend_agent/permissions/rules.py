"""Permission rules in Claude Code's settings syntax: ``Tool`` or ``Tool(specifier)``.

``Bash(...)`` specifiers match command text (exact, ``prefix:*`` or ``*`` wildcards); ``Read(...)``
and ``Edit(...)`` specifiers are gitignore-style path patterns; ``mcp__server`` names a whole
MCP server.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from backend_agent.errors import UserError

READ_TOOLS = frozenset({"Read", "Glob", "Grep"})
EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write"})
Behavior = Literal["allow", "ask", "deny"]

_RULE = re.compile(r"^(?P<tool>[A-Za-z0-9_\-*]+)(?:\((?P<spec>.*)\))?$", re.DOTALL)


@dataclass(frozen=True)
class Rule:
    """One rule as written by the user, plus where it came from.

    ``root`` anchors ``/path`` patterns (the project that holds the settings file); ``cwd``
    anchors ``path`` and ``./path`` patterns.
    """

    tool: str
    specifier: str | None
    source: str
    root: Path
    cwd: Path
    _path_regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _path_base: Path | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return self.tool if self.specifier is None else f"{self.tool}({self.specifier})"

    def applies_to(self, tool_name: str) -> bool:
        """Whether this rule speaks about ``tool_name`` at all (specifier aside)."""
        if self.tool == tool_name:
            return True
        if self.tool == "Read" and tool_name in READ_TOOLS:
            return True
        if self.tool == "Edit" and tool_name in EDIT_TOOLS:
            return True
        if self.tool.startswith("mcp__"):
            server = self.tool.removesuffix("__*")
            return server.count("__") == 1 and tool_name.startswith(server + "__")
        return False

    def matches_command(self, command: str) -> bool:
        """For ``Bash`` rules: does one simple command's text match the specifier?"""
        if self.specifier is None:
            return True
        return command_matches(self.specifier, command)

    def matches_path(self, path: Path) -> bool:
        """For path rules: does the resolved ``path`` (or a directory above it) match?"""
        if self.specifier is None:
            return True
        if self._path_regex is None or self._path_base is None:
            return False
        try:
            relative = path.relative_to(self._path_base)
        except ValueError:
            return False
        parts = relative.parts
        if not parts:
            return bool(self._path_regex.fullmatch(""))
        return any(
            self._path_regex.fullmatch("/".join(parts[:depth]))
            for depth in range(1, len(parts) + 1)
        )


def parse_rule(text: str, *, source: str, root: Path, cwd: Path) -> Rule:
    """Parse ``Tool`` or ``Tool(specifier)``; a malformed rule is a UserError naming its source."""
    match = _RULE.match(text.strip())
    if match is None:
        raise UserError(
            f"{source}: invalid permission rule {text!r}; write Tool or Tool(specifier), "
            "e.g. Bash(npm run test:*)"
        )
    tool, spec = match["tool"], match["spec"]
    specifier = spec.strip() or None if spec is not None else None
    regex, base = (None, None)
    if specifier is not None and tool in READ_TOOLS | EDIT_TOOLS:
        base, regex = _compile_path_pattern(specifier, root=root, cwd=cwd)
    return Rule(tool, specifier, source, root, cwd, regex, base)


def split_rule_list(value: str) -> list[str]:
    """Split a ``--allowedTools`` value on commas and spaces that are outside parentheses."""
    rules: list[str] = []
    depth, current = 0, ""
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if depth == 0 and (char == "," or char.isspace()):
            if current:
                rules.append(current)
            current = ""
            continue
        current += char
    if current:
        rules.append(current)
    return rules


def command_matches(specifier: str, command: str) -> bool:
    """``npm run test:*`` matches those words and anything after; ``*`` matches any text."""
    wanted = " ".join(specifier.split())
    actual = " ".join(command.split())
    if wanted.endswith(":*"):
        prefix = wanted[:-2].rstrip()
        if "*" not in prefix:
            return actual == prefix or actual.startswith(prefix + " ")
        wanted = prefix + "*"
    if "*" not in wanted:
        return actual == wanted
    regex = ".*".join(re.escape(piece) for piece in wanted.split("*"))
    return re.fullmatch(regex, actual, re.DOTALL) is not None


def _compile_path_pattern(pattern: str, *, root: Path, cwd: Path) -> tuple[Path, re.Pattern[str]]:
    """Turn a gitignore-style pattern into (anchor directory, regex on paths relative to it)."""
    if pattern.startswith("//"):
        base, rest, anchored = Path("/"), pattern[2:], True
    elif pattern.startswith("~/") or pattern == "~":
        base, rest, anchored = Path.home(), pattern[2:], True
    elif pattern.startswith("/"):
        base, rest, anchored = root, pattern[1:], True
    elif pattern.startswith("./"):
        base, rest, anchored = cwd, pattern[2:], True
    else:
        base, rest, anchored = cwd, pattern, "/" in pattern.rstrip("/")
    rest = rest.rstrip("/")
    body = _glob_to_regex(rest)
    if not anchored:
        body = f"(?:.*/)?{body}"
    return Path(os.path.realpath(base)), re.compile(body, re.DOTALL)


def _glob_to_regex(glob: str) -> str:
    """gitignore glob syntax: ``**`` spans directories, ``*`` and ``?`` stay within one."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        elif glob[i] == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            body = glob[i + 1 : end].replace("\\", "\\\\")
            if body.startswith("!"):
                body = "^" + body[1:]
            out, i = out + f"[{body}]", end + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return out


@dataclass
class RuleSet:
    """The merged allow/ask/deny rules of every settings source and flag."""

    allow: list[Rule] = field(default_factory=list)
    ask: list[Rule] = field(default_factory=list)
    deny: list[Rule] = field(default_factory=list)

    def add(self, behavior: Behavior, rule: Rule) -> None:
        getattr(self, behavior).append(rule)

    def for_tool(self, behavior: Behavior, tool_name: str) -> list[Rule]:
        rules: list[Rule] = getattr(self, behavior)
        return [rule for rule in rules if rule.applies_to(tool_name)]

    def remove(self, behavior: Behavior, text: str) -> list[Rule]:
        """Take out the ``behavior`` rules written as ``text``; returns them."""
        rules: list[Rule] = getattr(self, behavior)
        gone = [rule for rule in rules if str(rule) == text]
        setattr(self, behavior, [rule for rule in rules if str(rule) != text])
        return gone
