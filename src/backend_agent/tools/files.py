"""Read, Write, Edit and MultiEdit, with the session's read tracking (read before write)."""

from __future__ import annotations

import os
import stat
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import Field

from backend_agent.tools.base import PlannedChange, ToolResult
from backend_agent.tools.builtin import BuiltinTool, Number, ToolError, ToolInput
from backend_agent.tools.textfile import (
    TextForm,
    atomic_write,
    decode,
    numbered,
    read_lines,
    snippet,
)

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession

MAX_READ_BYTES = 256 * 1024
DEFAULT_READ_LINES = 2000
BINARY_SNIFF_BYTES = 8192
WRITE_PREVIEW_LINES = 10
ECHO_CHARS = 500


class ReadTracker:
    """The modification time and size of every file as this session last read or wrote it."""

    def __init__(self) -> None:
        self._seen: dict[Path, tuple[int, int]] = {}

    def record(self, path: Path, status: os.stat_result) -> None:
        self._seen[path.resolve()] = (status.st_mtime_ns, status.st_size)

    def check(self, path: Path, status: os.stat_result) -> None:
        """Refuse to change a file this session has not read, or that changed since."""
        seen = self._seen.get(path.resolve())
        if seen is None:
            raise ToolError(f"{path} has not been read in this session. Read it first, then edit.")
        if seen != (status.st_mtime_ns, status.st_size):
            raise ToolError(
                f"{path} was modified on disk since it was last read. Read it again, then edit."
            )


# ---------------------------------------------------------------- Read


class ReadInput(ToolInput):
    file_path: str = Field(description="Absolute, or relative to the working directory")
    offset: Number | None = Field(default=None, ge=0, description="First line, 1-based")
    limit: Number | None = Field(default=None, ge=1, description="Number of lines")


class Read(BuiltinTool[ReadInput]):
    name = "Read"
    input_model = ReadInput
    description = (
        "Read a text file as numbered lines (`     1→text`): up to 2000 lines, lines over 2000 "
        "characters cut. Page with offset/limit (required over 256 KB). Read a file before "
        "editing it."
    )

    def execute(self, args: ReadInput, session: ToolSession) -> ToolResult:
        path = session.resolve_path(args.file_path)
        try:
            return self._read(path, args, session)
        except FileNotFoundError:
            raise ToolError(f"File does not exist: {path}") from None
        except IsADirectoryError:
            raise ToolError(f"{path} is a directory; use Glob or Bash `ls` to list it.") from None
        except OSError as exc:
            raise ToolError(f"Cannot read {path}: {exc.strerror}") from None

    def _read(self, path: Path, args: ReadInput, session: ToolSession) -> ToolResult:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):  # a FIFO or device would block or never end
            raise ToolError(f"{path} is not a regular file; it cannot be read.")
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            paging = args.offset is not None or args.limit is not None
            if status.st_size > MAX_READ_BYTES and not paging:
                raise ToolError(
                    f"{path} is {status.st_size:,} bytes, over the {MAX_READ_BYTES:,}-byte "
                    "limit for a whole-file read. Read a part with offset and limit, or "
                    "search it with Grep."
                )
            if b"\0" in handle.read(BINARY_SNIFF_BYTES):
                raise ToolError(
                    f"{path} is a binary file ({status.st_size:,} bytes); it cannot be shown."
                )
            handle.seek(0)
            first = max(args.offset or 1, 1)
            page = read_lines(handle, first - 1, args.limit or DEFAULT_READ_LINES)
        session.read_tracker.record(path, status)
        lines, total = page.lines, page.total

        if total == 0:
            return ToolResult(f"<system-reminder>{path} exists but is empty.</system-reminder>")
        if not lines:
            return ToolResult(
                f"<system-reminder>{path} has {total} lines, fewer than the offset "
                f"{first}.</system-reminder>"
            )
        text = numbered(lines, first, page.lengths)
        last = first + len(lines) - 1
        if first > 1 or last < total:
            text += (
                f"\n\n(Showed lines {first}-{last} of {total}. "
                "Use offset and limit to read other lines.)"
            )
        return ToolResult(text)


# ---------------------------------------------------------------- Write / Edit / MultiEdit


@dataclass(frozen=True)
class EditSpec:
    """One replacement: ``old_string`` becomes ``new_string`` (once, or everywhere)."""

    old_string: str
    new_string: str
    replace_all: bool = False


@dataclass
class FileChange:
    """A computed change to one file, ready to be written (or shown for approval)."""

    path: Path
    before: str
    after: str
    form: TextForm
    is_new: bool
    counts: list[int] = field(default_factory=list)  # replacements made by each edit

    def planned(self) -> PlannedChange:
        return PlannedChange(self.path, self.before, self.after, self.is_new)

    def write(self, session: ToolSession) -> None:
        try:
            data = self.form.encode(self.after)
        except UnicodeEncodeError as exc:
            raise ToolError(f"The new content cannot be encoded as UTF-8: {exc.reason}") from None
        try:
            atomic_write(self.path, data)
        except OSError as exc:
            raise ToolError(f"Could not write {self.path}: {exc.strerror}") from None
        session.read_tracker.record(self.path, self.path.stat())


def _load_for_change(path: Path, session: ToolSession) -> tuple[str, TextForm] | None:
    """The current text of ``path`` once the read-before-write rules pass; None if absent."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ToolError(f"Cannot access {path}: {exc.strerror}") from None
    if stat.S_ISDIR(status.st_mode):
        raise ToolError(f"{path} is a directory, not a file.")
    session.read_tracker.check(path, status)
    try:
        return decode(path.read_bytes())
    except OSError as exc:
        raise ToolError(f"Cannot read {path}: {exc.strerror}") from None


def plan_write(path: Path, content: str, session: ToolSession) -> FileChange:
    """What Write would do: the whole new content, as given."""
    current = _load_for_change(path, session)
    if current is None:
        return FileChange(path, "", content, TextForm(), is_new=True)
    return FileChange(path, current[0], content, TextForm(), is_new=False)


def plan_edits(path: Path, edits: Sequence[EditSpec], session: ToolSession) -> FileChange:
    """What Edit/MultiEdit would do: every edit applied in order, in memory."""
    current = _load_for_change(path, session)
    if current is None:
        if edits[0].old_string != "":
            raise ToolError(
                f"File does not exist: {path}. To create it, use Write "
                "(or Edit with an empty old_string)."
            )
        before, form, is_new = "", TextForm(), True
    else:
        (before, form), is_new = current, False
    after = before
    counts = []
    for index, edit in enumerate(edits):
        try:
            after, count = apply_edit(after, _in_form(edit, form))
        except ToolError as exc:
            if len(edits) == 1:
                raise
            raise ToolError(
                f"Edit {index + 1} of {len(edits)} (edits[{index}]) failed: {exc} "
                "No edit was applied; the file is unchanged."
            ) from None
        counts.append(count)
    return FileChange(path, before, after, form, is_new, counts)


def _in_form(edit: EditSpec, form: TextForm) -> EditSpec:
    """The edit with CRLF normalised like the file's text was."""
    if not form.crlf:
        return edit
    return EditSpec(
        edit.old_string.replace("\r\n", "\n"),
        edit.new_string.replace("\r\n", "\n"),
        edit.replace_all,
    )


def apply_edit(text: str, edit: EditSpec) -> tuple[str, int]:
    """``text`` with the edit applied, and how many occurrences were replaced."""
    old, new = edit.old_string, edit.new_string
    if old == new:
        raise ToolError(f"old_string and new_string are identical; nothing to change: {_echo(old)}")
    if old == "":
        if text:
            raise ToolError(
                "old_string is empty but the file has content. Give the exact text to "
                "replace, or use Write to replace the whole file."
            )
        return new, 1
    count = text.count(old)
    if count == 0:
        raise ToolError(
            "old_string was not found in the file. It must match exactly, including "
            f"whitespace and indentation: {_echo(old)}"
        )
    if count > 1 and not edit.replace_all:
        raise ToolError(
            f"old_string occurs {count} times but replace_all is false. Add surrounding "
            f"lines to make it unique, or set replace_all to true: {_echo(old)}"
        )
    return text.replace(old, new, -1 if edit.replace_all else 1), count


def _echo(text: str) -> str:
    shown = text if len(text) <= ECHO_CHARS else f"{text[:ECHO_CHARS]}… ({len(text)} chars)"
    return f"\n{shown}"


ChangeInputT = TypeVar("ChangeInputT", bound=ToolInput)


class FileChangeTool(BuiltinTool[ChangeInputT]):
    """A tool that changes one file: plan the change in memory, then write it atomically."""

    @abstractmethod
    def plan(self, args: ChangeInputT, session: ToolSession) -> FileChange:
        """The change this call makes; ToolError when a rule refuses it."""

    @abstractmethod
    def report(self, args: ChangeInputT, change: FileChange) -> str:
        """What the model is told once the change is written."""

    def execute(self, args: ChangeInputT, session: ToolSession) -> ToolResult:
        change = self.plan(args, session)
        change.write(session)
        return ToolResult(self.report(args, change))

    def planned_change(self, input: dict[str, Any], session: ToolSession) -> PlannedChange | None:
        """The change without writing it; None when the call would fail."""
        try:
            return self.plan(self.parse(input), session).planned()
        except ToolError:
            return None


class WriteInput(ToolInput):
    file_path: str
    content: str


class Write(FileChangeTool[WriteInput]):
    name = "Write"
    input_model = WriteInput
    description = (
        "Create a file or replace its content (directories are created). Read an existing "
        "file first. Prefer Edit for changes."
    )

    def plan(self, args: WriteInput, session: ToolSession) -> FileChange:
        return plan_write(session.resolve_path(args.file_path), args.content, session)

    def report(self, args: WriteInput, change: FileChange) -> str:
        if change.is_new:
            return f"Created {change.path}"
        lines = change.after.split("\n")
        preview = numbered(lines[:WRITE_PREVIEW_LINES], 1)
        more = f"\n… ({len(lines)} lines in total)" if len(lines) > WRITE_PREVIEW_LINES else ""
        return f"Updated {change.path}. It now starts:\n{preview}{more}"


class EditInput(ToolInput):
    file_path: str
    old_string: str
    new_string: str
    replace_all: bool = False


class Edit(FileChangeTool[EditInput]):
    name = "Edit"
    input_model = EditInput
    description = (
        "Replace old_string with new_string in a file Read earlier. old_string must match "
        "exactly (indentation too, without Read's line prefix) and be unique unless "
        "replace_all. An empty old_string creates a file."
    )

    def plan(self, args: EditInput, session: ToolSession) -> FileChange:
        edit = EditSpec(args.old_string, args.new_string, args.replace_all)
        return plan_edits(session.resolve_path(args.file_path), [edit], session)

    def report(self, args: EditInput, change: FileChange) -> str:
        if change.is_new:
            return f"Created {change.path}"
        if args.replace_all:
            count = change.counts[0]
            return f"Replaced all {count} {_occurrences(count)} of old_string in {change.path}."
        edit = _in_form(EditSpec(args.old_string, args.new_string), change.form)
        first = change.after.count("\n", 0, change.before.find(edit.old_string))
        last = first + edit.new_string.count("\n")
        return f"Edited {change.path}:\n{snippet(change.after, first, last)}"


class EditItem(ToolInput):
    old_string: str
    new_string: str
    replace_all: bool = False


class MultiEditInput(ToolInput):
    file_path: str
    edits: list[EditItem] = Field(min_length=1)


class MultiEdit(FileChangeTool[MultiEditInput]):
    name = "MultiEdit"
    input_model = MultiEditInput
    description = (
        "Several Edit replacements in one file, applied in order; all or nothing. Same rules "
        "as Edit."
    )

    def plan(self, args: MultiEditInput, session: ToolSession) -> FileChange:
        edits = [EditSpec(e.old_string, e.new_string, e.replace_all) for e in args.edits]
        return plan_edits(session.resolve_path(args.file_path), edits, session)

    def report(self, args: MultiEditInput, change: FileChange) -> str:
        count = len(args.edits)
        lines = [f"Applied {count} edit{'' if count == 1 else 's'} to {change.path}:"]
        for number, (edit, count) in enumerate(zip(args.edits, change.counts, strict=True), 1):
            lines.append(
                f"{number}. replaced {count} {_occurrences(count)} of "
                f"{_glimpse(edit.old_string)} with {_glimpse(edit.new_string)}"
            )
        return "\n".join(lines)


def _occurrences(count: int) -> str:
    return "occurrence" if count == 1 else "occurrences"


def _glimpse(text: str, width: int = 60) -> str:
    """A one-line glimpse of an edit's string."""
    first = text.split("\n", 1)[0]
    cut = len(first) > width or first != text
    return repr(first[:width] + ("…" if cut else ""))
