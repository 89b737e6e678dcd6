"""Glob and Grep, both on ripgrep: .gitignore respected, hidden and VCS directories skipped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from backend_agent.tools.base import ToolResult
from backend_agent.tools.builtin import (
    BuiltinTool,
    Number,
    ToolError,
    ToolInput,
    truncate,
)
from backend_agent.tools.ripgrep import (
    run_rg,
    run_rg_newest_first,
)

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession

MAX_GLOB_RESULTS = 100
GLOB_CHARS = frozenset("*?[{")
MAX_LINE_COLUMNS = 500  # content lines longer than this (minified code) are previewed, not dumped
NO_MATCH = "No files found"


# ---------------------------------------------------------------- Glob


class GlobInput(ToolInput):
    pattern: str
    path: str | None = Field(default=None, description="Default: the working directory")


class Glob(BuiltinTool[GlobInput]):
    name = "Glob"
    input_model = GlobInput
    description = (
        "Find files by glob (`**/*.py`, `src/**/*.{ts,tsx}`; no `/` matches at any depth). "
        "Absolute paths, newest first, at most 100; .gitignore honoured."
    )

    def execute(self, args: GlobInput, session: ToolSession) -> ToolResult:
        base = session.resolve_path(args.path) if args.path else session.cwd
        base, pattern = _split_pattern(args.pattern, base)
        if not base.is_dir():
            problem = "is not a directory" if base.exists() else "does not exist"
            raise ToolError(f"Glob path {base} {problem}.")
        listing = run_rg_newest_first(["--files", f"--glob={pattern}"], base)
        if listing.returncode not in (0, 1):
            raise ToolError(f"Glob failed: {listing.stderr}")
        if not listing.paths:
            return ToolResult(NO_MATCH)
        root = os.fsencode(base)
        shown = [
            display_path(os.path.join(root, path)) for path in listing.paths[:MAX_GLOB_RESULTS]
        ]
        if len(listing.paths) > MAX_GLOB_RESULTS:
            shown.append(
                f"(Results truncated: showing the {MAX_GLOB_RESULTS} most recently modified "
                f"of {len(listing.paths)} files. Narrow the pattern or path to see others.)"
            )
        return ToolResult("\n".join(shown))


def display_path(path: bytes) -> str:
    """A path as text; bytes that are not UTF-8 are shown escaped (``caf\\xe9.txt``)."""
    return path.decode("utf-8", "backslashreplace")


def _split_pattern(pattern: str, base: Path) -> tuple[Path, str]:
    """An absolute pattern's literal leading directories become the base directory."""
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if not os.path.isabs(pattern):
        return base, pattern
    parts = Path(pattern).parts
    literal = 0
    while literal < len(parts) - 1 and not GLOB_CHARS & set(parts[literal]):
        literal += 1
    return Path(*parts[:literal]), "/".join(parts[literal:])


# ---------------------------------------------------------------- Grep

OutputMode = Literal["content", "files_with_matches", "count"]


class GrepInput(ToolInput):
    pattern: str
    path: str | None = Field(default=None, description="File or directory")
    glob: str | None = Field(default=None, description='e.g. "*.{ts,tsx}"')
    output_mode: OutputMode = "files_with_matches"
    before: Number | None = Field(default=None, alias="-B", ge=0)
    after: Number | None = Field(default=None, alias="-A", ge=0)
    context: Number | None = Field(default=None, alias="-C", ge=0)
    line_numbers: bool = Field(default=True, alias="-n")
    ignore_case: bool = Field(default=False, alias="-i")
    type: str | None = Field(default=None, description='rg --type, e.g. "py"')
    head_limit: Number | None = Field(default=None, ge=1, description="First N lines/entries")
    multiline: bool = Field(default=False, description="Match across lines")


class Grep(BuiltinTool[GrepInput]):
    name = "Grep"
    input_model = GrepInput
    description = (
        "Search file contents with a ripgrep regex (escape literal braces: `interface\\{\\}`). "
        "output_mode: files_with_matches (paths), content (`path:line:text`; -A/-B/-C, -n) "
        "or count. Use it instead of grep or rg in Bash."
    )

    def execute(self, args: GrepInput, session: ToolSession) -> ToolResult:
        try:
            return self._search(args, session)
        except NoMatch:
            return ToolResult(NO_MATCH)

    def _search(self, args: GrepInput, session: ToolSession) -> ToolResult:
        target = session.resolve_path(args.path) if args.path else session.cwd
        if not target.exists():
            raise ToolError(f"Path does not exist: {target}")
        flags = [*_grep_flags(args, single_file=not target.is_dir()), *_where(target, session)]
        if args.output_mode == "files_with_matches":
            listing = run_rg_newest_first(flags, session.cwd)
            _check(listing.returncode, listing.stderr, bool(listing.paths))
            return ToolResult(_files_report(listing.paths, args.head_limit, session.output_cap))
        run = run_rg(flags, session.cwd)
        _check(run.returncode, run.stderr, bool(run.stdout))
        if args.output_mode == "count":
            return ToolResult(_count_report(run.stdout, args.head_limit, session.output_cap))
        return ToolResult(_content_report(run.stdout, args.head_limit, session.output_cap))


class NoMatch(Exception):
    """ripgrep found nothing (or its filters left no file to search)."""


def _check(returncode: int, stderr: str, has_output: bool) -> None:
    """Raise NoMatch or ToolError unless ripgrep produced results."""
    if returncode == 1 or (returncode == 2 and "No files were searched" in stderr):
        raise NoMatch
    if returncode == 2 and not has_output:
        raise ToolError(f"Grep failed: {stderr}")


def _where(target: Path, session: ToolSession) -> list[str]:
    """The path argument: none for the root itself, relative below it, else absolute."""
    if target == session.cwd:
        return []
    relative = os.path.relpath(target, session.cwd)
    return ["--", target.as_posix() if relative.startswith("..") else relative]


def _grep_flags(args: GrepInput, *, single_file: bool) -> list[str]:
    flags = ["--color=never", f"--regexp={args.pattern}"]
    if args.ignore_case:
        flags.append("--ignore-case")
    if args.multiline:
        flags += ["--multiline", "--multiline-dotall"]
    if args.glob:
        flags.append(f"--glob={args.glob}")
    if args.type:
        flags.append(f"--type={args.type}")
    if args.output_mode == "files_with_matches":
        return [*flags, "--files-with-matches"]
    if args.output_mode == "count":
        return [*flags, "--count-matches", "--with-filename"]
    flags += ["--no-heading", "--no-filename" if single_file else "--with-filename", "--null"]
    flags.append("--line-number" if args.line_numbers else "--no-line-number")
    flags += [f"--max-columns={MAX_LINE_COLUMNS}", "--max-columns-preview"]
    for flag, value in (("-A", args.after), ("-B", args.before), ("-C", args.context)):
        if value is not None:
            flags.append(f"{flag}{value}")
    return flags


def _files_report(paths: list[bytes], head_limit: int | None, cap: int) -> str:
    shown = paths[:head_limit] if head_limit else paths
    noun = "file" if len(paths) == 1 else "files"
    report = "\n".join([f"Found {len(paths)} {noun}", *map(display_path, shown)])
    if len(shown) < len(paths):
        report += f"\n(head_limit: showing the first {len(shown)} of {len(paths)} files.)"
    return truncate(report, limit=cap)


def _count_report(stdout: bytes, head_limit: int | None, cap: int) -> str:
    lines = stdout.decode("utf-8", "backslashreplace").splitlines()
    total = sum(int(line.rpartition(":")[2]) for line in lines)
    shown = lines[:head_limit] if head_limit else lines
    report = "\n".join(shown)
    if len(shown) < len(lines):
        report += f"\n(head_limit: showing the first {len(shown)} of {len(lines)} files.)"
    noun = "file" if len(lines) == 1 else "files"
    summary = f"Found {total} total occurrences across {len(lines)} {noun}."
    return f"{truncate(report, limit=cap)}\n\n{summary}"


def _content_report(stdout: bytes, head_limit: int | None, cap: int) -> str:
    """ripgrep's lines, cut to head_limit lines and ``cap`` characters, saying what was cut.

    Only the part that can be shown is decoded, so a huge result stays cheap.
    """
    total = stdout.count(b"\n")
    kept = stdout
    if head_limit is not None and head_limit < total:
        end = -1
        for _ in range(head_limit):
            end = stdout.index(b"\n", end + 1)
        kept = stdout[: end + 1]
    kept_lines = min(total, head_limit or total)
    text = _decode_content(kept[: 4 * cap + 4])
    text = text.replace("\r\n", "\n").rstrip("\n")  # CRLF files show like Read shows them
    if len(text) > cap:
        last_newline = text.rfind("\n", 0, cap)
        text = text[: last_newline if last_newline > 0 else cap]
        hidden = kept_lines - (text.count("\n") + 1)
        text += f"\n\n... [{hidden} lines truncated] ..."
    if kept_lines < total:
        text += f"\n(head_limit: showing the first {kept_lines} of {total} lines.)"
    return text


def _decode_content(data: bytes) -> str:
    """ripgrep's ``path NUL line:text`` lines (``--null``) as ``path:line:text``, the path
    escaped where it is not UTF-8 and the text with U+FFFD for undecodable bytes."""
    if b"\0" not in data:
        return data.decode("utf-8", "replace")
    lines = []
    for line in data.split(b"\n"):
        path, nul, rest = line.partition(b"\0")
        if not nul:  # a "--" between context groups
            lines.append(line.decode("utf-8", "replace"))
            continue
        number = rest[: len(rest) - len(rest.lstrip(b"0123456789"))]
        separator = rest[len(number) : len(number) + 1] if number else b":"
        text = (separator + rest).decode("utf-8", "replace")
        lines.append(display_path(path) + text)
    return "\n".join(lines)
