"""The permission decision for one tool call: allow, ask or deny, and why.

Order: deny rules, then plan mode, then bypass mode, then ask rules, then protected paths, then
allow rules, then the mode's default (reads inside the working directories run; edits run in
``acceptEdits``; everything else asks). ``dontAsk`` turns every remaining ask into a deny. No
prompts and no hooks here: only path resolution, and listing a Grep's files when deny rules
could protect one of them.
"""

from __future__ import annotations

import glob
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend_agent.definitions import PermissionMode
from backend_agent.permissions.paths import HARMLESS_DEVICES, Workspace, resolve
from backend_agent.permissions.rules import EDIT_TOOLS, READ_TOOLS, Behavior, Rule, RuleSet
from backend_agent.permissions.shell import ParsedCommand, UnparsableCommand, Word, split_command

# Tools that only touch this session's own state: its background shells, its todo list.
SESSION_TOOLS = frozenset({"BashOutput", "KillShell", "TodoWrite"})
_GLOB_CHARS = frozenset("*?[")
_DIRECTORY_CHANGERS = frozenset({"cd", "pushd"})
_MAX_DIRECTORIES_FOLLOWED = 16

PLAN_MODE_MESSAGE = (
    "Plan mode is on: {tool} could change files or run commands, so it is not available while "
    "planning. Keep investigating with Read, Glob and Grep, then present your plan; nothing is "
    "changed until the user leaves plan mode."
)


@dataclass(frozen=True)
class Verdict:
    """A decision with the reason shown to the user or model.

    ``protected`` asks can only be approved by the user, never by a hook or a saved rule;
    ``suggestions`` are the rules that "yes, and don't ask again" would save.
    """

    behavior: Behavior
    reason: str
    protected: bool = False
    suggestions: tuple[str, ...] = ()


@dataclass
class _ShellPaths:
    """What the arguments and redirections of a command line point at."""

    protected: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    dynamic: list[str] = field(default_factory=list)


class PermissionEngine:
    """Decides tool calls for one mode, one rule set and one workspace."""

    def __init__(
        self,
        mode: PermissionMode,
        rules: RuleSet,
        workspace: Workspace,
        *,
        sandboxed: Callable[[], bool],
        readable: tuple[Path, ...] = (),
    ) -> None:
        self.mode = mode
        self.rules = rules
        self.workspace = workspace
        self.sandboxed = sandboxed
        self.readable = readable  # read without asking in any mode (a session's saved outputs)

    def decide(
        self,
        tool: str,
        tool_input: dict[str, Any],
        *,
        cwd: Path,
        shell_cwd: Path,
        read_only: bool = False,
    ) -> Verdict:
        """``read_only``: a tool registered as only reading the project (the built-in
        evidence tools), allowed in every mode unless a rule denies or asks."""
        if tool == "Bash":
            verdict = self._shell(tool_input, shell_cwd)
        elif tool in READ_TOOLS or tool in EDIT_TOOLS:
            verdict = self._file(tool, tool_input, cwd)
        else:
            verdict = self._other(tool, read_only)
        if verdict.behavior == "ask" and self.mode == "dontAsk":
            return Verdict("deny", f"{verdict.reason} (dontAsk mode refuses whatever would ask)")
        return verdict

    def _other(self, tool: str, read_only: bool = False) -> Verdict:
        whole_tool = [rule for rule in self.rules.for_tool("deny", tool) if rule.specifier is None]
        if whole_tool:
            return _denied_by(whole_tool[0])
        if tool in SESSION_TOOLS:
            return Verdict("allow", "it only touches this session's own state")
        asked = any(rule.specifier is None for rule in self.rules.for_tool("ask", tool))
        if read_only and not asked:
            return Verdict("allow", f"{tool} only reads the project")
        if self.mode == "plan":
            return Verdict("deny", PLAN_MODE_MESSAGE.format(tool=tool))
        if self.mode == "bypassPermissions":
            return Verdict("allow", "bypassPermissions mode")
        if asked:
            return Verdict("ask", f"a rule asks before {tool}", suggestions=())
        if any(rule.specifier is None for rule in self.rules.for_tool("allow", tool)):
            return Verdict("allow", f"allowed by a rule for {tool}")
        return Verdict("ask", f"{tool} needs approval", suggestions=(tool,))

    def _file(self, tool: str, tool_input: dict[str, Any], cwd: Path) -> Verdict:
        editing = tool in EDIT_TOOLS
        try:
            target = resolve(_target_path(tool, tool_input), cwd)
        except ValueError as error:
            return Verdict("deny", str(error))
        for rule in self.rules.for_tool("deny", tool):
            if rule.matches_path(target):
                return _denied_by(rule)
        if tool == "Grep" and target.is_dir():
            hidden = _denied_file_in_search(target, cwd, tool_input.get("glob"), self.rules)
            if hidden is not None:
                return hidden
        if not editing and any(target.is_relative_to(place) for place in self.readable):
            return Verdict("allow", "a tool output this session saved")
        if editing and self.mode == "plan":
            return Verdict("deny", PLAN_MODE_MESSAGE.format(tool=tool))
        if self.mode == "bypassPermissions":
            return Verdict("allow", "bypassPermissions mode")
        if any(rule.matches_path(target) for rule in self.rules.for_tool("ask", tool)):
            return Verdict("ask", f"a rule asks before {tool} on {target}")
        if editing and self.workspace.is_protected(target):
            return Verdict("ask", _protected_reason(str(target)), protected=True)
        if any(rule.matches_path(target) for rule in self.rules.for_tool("allow", tool)):
            return Verdict("allow", f"allowed by a rule for {target}")
        inside = self.workspace.contains(target)
        suggestion = (f"{'Edit' if editing else 'Read'}({self._path_pattern(target)})",)
        if not inside:
            return Verdict(
                "ask", f"{target} is outside the working directories", suggestions=suggestion
            )
        if not editing or self.mode == "acceptEdits":
            return Verdict("allow", "inside the working directories")
        return Verdict("ask", f"{tool} changes {target}", suggestions=suggestion)

    def _path_pattern(self, path: Path) -> str:
        """The rule pattern naming ``path``: ``/rel`` inside the project, ``//abs`` elsewhere."""
        if path.is_relative_to(self.workspace.cwd):
            return "/" + path.relative_to(self.workspace.cwd).as_posix()
        return "/" + path.as_posix()

    def _shell(self, tool_input: dict[str, Any], shell_cwd: Path) -> Verdict:
        command = tool_input.get("command")
        if not isinstance(command, str):
            return Verdict("deny", "Bash input needs a string `command`")
        if self.mode in ("bypassPermissions", "plan") and not self.rules.for_tool("deny", "Bash"):
            return self._unparsable_shell(command, "not parsed: no rule needs it")
        try:
            parsed = split_command(command)
        except UnparsableCommand as error:
            return self._unparsable_shell(command, str(error))
        texts = [(sub.text, " ".join(word.text for word in sub.words)) for sub in parsed.commands]
        for rule in self.rules.for_tool("deny", "Bash"):
            for text, words in texts:
                if rule.matches_command(text) or rule.matches_command(words):
                    return _denied_by(rule, f"`{text}`")
        if self.mode == "plan":
            return Verdict("deny", PLAN_MODE_MESSAGE.format(tool="Bash"))
        if self.mode == "bypassPermissions":
            return Verdict("allow", "bypassPermissions mode")
        for rule in self.rules.for_tool("ask", "Bash"):
            for text, words in texts:
                if rule.matches_command(text) or rule.matches_command(words):
                    return Verdict("ask", f"rule {rule} asks before `{text}`")
        paths = self._shell_paths(parsed, shell_cwd)
        if paths.protected:
            return Verdict("ask", _protected_reason(", ".join(paths.protected)), protected=True)
        allowed = self.rules.for_tool("allow", "Bash")
        if any(rule.specifier is None for rule in allowed):
            return Verdict("allow", "a rule allows every shell command")
        if paths.outside:
            return Verdict(
                "ask",
                f"the command reaches outside the working directories: {', '.join(paths.outside)}",
            )
        if paths.dynamic:
            return Verdict(
                "ask",
                "its paths cannot be checked before it runs (expansions or directory changes): "
                + ", ".join(paths.dynamic),
            )
        unallowed = [
            sub.text
            for sub in parsed.commands
            if not any(rule.matches_command(sub.text) for rule in allowed)
        ]
        if not unallowed:
            return Verdict("allow", "every command in it is allowed by a rule")
        suggestions = tuple(dict.fromkeys(f"Bash({text})" for text in unallowed))
        listed = ", ".join(f"`{text}`" for text in unallowed)
        return Verdict("ask", f"shell commands need approval: {listed}", suggestions=suggestions)

    def _unparsable_shell(self, command: str, problem: str) -> Verdict:
        for rule in self.rules.for_tool("deny", "Bash"):
            if rule.matches_command(command):
                return _denied_by(rule)
        if self.mode == "plan":
            return Verdict("deny", PLAN_MODE_MESSAGE.format(tool="Bash"))
        if self.mode == "bypassPermissions":
            return Verdict("allow", "bypassPermissions mode")
        whole_shell = any(rule.specifier is None for rule in self.rules.for_tool("allow", "Bash"))
        if whole_shell and not self.rules.for_tool("ask", "Bash"):
            return Verdict("allow", "every shell command is allowed by a rule")
        return Verdict("ask", f"the command cannot be checked: {problem}")

    def _shell_paths(self, parsed: ParsedCommand, shell_cwd: Path) -> _ShellPaths:
        found = _ShellPaths()
        bases = [shell_cwd]
        for sub in parsed.commands:
            changes_directory = sub.name in _DIRECTORY_CHANGERS
            if changes_directory and (not sub.arguments or sub.arguments[0].text == "-"):
                found.outside.append(f"`{sub.text}` (home or previous directory)")
            for word in sub.arguments:
                self._check_word(word, bases, found)
            if changes_directory and sub.arguments and not sub.arguments[0].dynamic:
                moved = [resolve(sub.arguments[0].text, base) for base in bases]
                bases = list(dict.fromkeys([*bases, *moved]))
                if len(bases) > _MAX_DIRECTORIES_FOLLOWED:
                    found.dynamic.append(f"`{sub.text}` (too many directory changes to follow)")
                    bases = bases[:_MAX_DIRECTORIES_FOLLOWED]
        for word in parsed.redirect_targets:
            self._check_word(word, bases, found)
        return found

    def _check_word(self, word: Word, bases: list[Path], found: _ShellPaths) -> None:
        if word.dynamic:
            found.dynamic.append(word.text)
            return
        text = word.text
        if text.startswith("-"):
            if "=" not in text:
                return
            text = text.split("=", 1)[1]
        if not text:
            return
        for base in bases:
            candidates = [text]
            if _GLOB_CHARS & set(text):
                candidates += glob.glob(os.path.expanduser(text), root_dir=base)
            for candidate in candidates:
                path = resolve(candidate, base)
                if self._harmless(path):
                    continue
                if self.workspace.is_protected(path):
                    found.protected.append(str(path))
                elif not self.workspace.contains(path):
                    found.outside.append(str(path))

    def _harmless(self, path: Path) -> bool:
        """Device files, and the sandbox's private /tmp (nothing of the host is visible there)."""
        text = str(path)
        if text in HARMLESS_DEVICES or text.startswith(("/dev/fd/", "/proc/self/fd/")):
            return True
        return (
            path.is_relative_to("/tmp") and not self.workspace.contains(path) and self.sandboxed()
        )


def _target_path(tool: str, tool_input: dict[str, Any]) -> str:
    """The file or directory a file tool would touch; ValueError when the input lacks it."""
    if tool in EDIT_TOOLS or tool == "Read":
        path = tool_input.get("file_path")
        if not isinstance(path, str) or not path:
            raise ValueError(f"{tool} input needs a string `file_path`")
        return path
    directory = tool_input.get("path") or "."
    if not isinstance(directory, str):
        raise ValueError(f"{tool} input `path` must be a string")
    if tool == "Grep":
        return directory
    pattern = tool_input.get("pattern")
    if not isinstance(pattern, str):
        raise ValueError("Glob input needs a string `pattern`")
    fixed: list[str] = []
    for index, segment in enumerate(pattern.split("/")):
        if _GLOB_CHARS & set(segment):
            if ".." in pattern.split("/")[index:]:
                raise ValueError("Glob patterns cannot use '..' after a wildcard; pass `path`")
            break
        fixed.append(segment)
    prefix = "/".join(fixed)
    if pattern.startswith("/"):
        return prefix or "/"
    return os.path.join(directory, prefix)


def _denied_file_in_search(
    directory: Path, cwd: Path, file_glob: Any, rules: RuleSet
) -> Verdict | None:
    """A deny verdict when a Grep over ``directory`` would read a file a deny rule protects.

    Lists the files the search would cover the way Grep runs it (ripgrep from ``cwd``:
    .gitignore respected, hidden files skipped, the call's glob applied); only runs when path
    deny rules exist.
    """
    path_rules = [rule for rule in rules.for_tool("deny", "Grep") if rule.specifier is not None]
    if not path_rules:
        return None
    from backend_agent.tools.builtin import ToolError
    from backend_agent.tools.ripgrep import rg_binary

    try:
        args = [rg_binary(), "--files", "--no-messages"]
    except ToolError as error:
        return Verdict("deny", f"cannot check which files Grep would read: {error}")
    if isinstance(file_glob, str) and file_glob:
        args.append(f"--glob={file_glob}")
    relative = os.path.relpath(directory, os.path.realpath(cwd))
    if relative != ".":
        args += ["--", str(directory) if relative.startswith("..") else relative]
    try:
        listing = subprocess.run(
            args, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return Verdict("deny", f"cannot check which files Grep would read: {error}")
    for line in listing.stdout.splitlines():
        file = Path(os.path.realpath(os.path.join(cwd, line)))
        for rule in path_rules:
            if rule.matches_path(file):
                return Verdict(
                    "deny",
                    f"Grep over {directory} would read {file}, which permission rule {rule} "
                    f"(from {rule.source}) denies; search a narrower path, or pass a glob that "
                    "leaves it out",
                )
    return None


def _denied_by(rule: Rule, what: str = "this call") -> Verdict:
    return Verdict("deny", f"Permission rule {rule} (from {rule.source}) denies {what}")


def _protected_reason(paths: str) -> str:
    return (
        f"{paths} is protected (.git, .claude, .mcp.json and settings files): "
        "edits and shell commands touching it always need the user's approval"
    )
