"""Large tool outputs saved to files: the model gets their head and tail, size and path.

A result over the limit (8,000 characters by default) is written whole to the session's
output directory; the model receives the beginning and the end, cut at line boundaries, the
total size, and the file's path, which Read (with offset and limit) and Grep can open. Read
itself is exempt: it pages through files already.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from backend_agent.tools.base import ToolResult

EXEMPT_TOOLS = frozenset({"Read"})
MAX_SAVED_CHARS = 10_000_000
"""What a tool keeps of its output when spilling is on (the file holds up to this much)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_ERROR_OPEN, _ERROR_CLOSE = "<tool_use_error>", "</tool_use_error>"


@dataclass(frozen=True)
class OutputSpill:
    """Where a session saves large tool outputs, and from what size."""

    directory: Path
    limit: int = 8_000

    @property
    def preview_chars(self) -> int:
        """Characters of the output shown to the model: three quarters head, one tail."""
        return max(400, self.limit // 4)

    def apply(self, tool: str, result: ToolResult) -> ToolResult:
        """``result`` as the model should get it: unchanged when small or from an exempt
        tool; else saved to a file and replaced by a preview naming it."""
        if tool in EXEMPT_TOOLS or len(result.content) <= self.limit:
            return result
        text = result.content
        wrapped = text.startswith(_ERROR_OPEN) and text.endswith(_ERROR_CLOSE)
        if wrapped:
            text = text[len(_ERROR_OPEN) : -len(_ERROR_CLOSE)]
        try:
            path = self.save(tool, text)
        except OSError as error:
            note = f"(The output could not be saved to a file: {error.strerror or error}.)"
            return replace(result, content=self._wrap(preview(text, self.preview_chars, note)))
        size = f"{len(text):,} characters, {text.count(chr(10)) + 1:,} lines"
        note = (
            f"(Output too long for the context: {size}. The whole output is in {path}: "
            "Read it with offset and limit, or Grep it.)"
        )
        shown = preview(text, self.preview_chars, note)
        return replace(result, content=self._wrap(shown) if wrapped else shown)

    def save(self, tool: str, text: str) -> Path:
        """Write ``text`` to a new file named after ``tool``; its path."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{_UNSAFE.sub('_', tool)[:60]}-{uuid.uuid4().hex[:10]}.txt"
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as file:
            file.write(text)
        return path

    @staticmethod
    def _wrap(text: str) -> str:
        return f"{_ERROR_OPEN}{text}{_ERROR_CLOSE}"


def preview(text: str, chars: int, note: str) -> str:
    """The head and tail of ``text`` within ``chars`` (cut at line ends where one is near),
    then ``note``; the middle is marked as truncated output is (``... [N lines truncated] ...``).
    """
    head_room, tail_room = chars * 3 // 4, chars // 4
    cut = text.rfind("\n", 0, head_room + 1)
    head_end = cut if cut >= head_room // 2 else head_room
    cut = text.find("\n", len(text) - tail_room - 1)
    tail_start = cut + 1 if 0 <= cut < len(text) - tail_room // 2 else len(text) - tail_room
    tail_start = max(tail_start, head_end)
    head, tail = text[:head_end], text[tail_start:]
    hidden = max(0, _lines(text) - _lines(head) - _lines(tail))
    return f"{head}\n... [{hidden} lines truncated] ...\n{tail.rstrip(chr(10))}\n\n{note}"


def _lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)
