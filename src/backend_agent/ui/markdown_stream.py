"""Streamed Markdown cut into blocks that can be rendered as soon as they are complete.

A block ends at a blank line outside a fenced code block, so paragraphs, lists and tables
appear (rendered) while the model is still writing the rest; the unfinished tail is shown
as plain text meanwhile.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


class MarkdownStream:
    """Collects streamed text; ``feed`` returns the blocks it completed."""

    def __init__(self) -> None:
        self.tail = ""  # text not yet part of a complete block

    def feed(self, text: str) -> list[str]:
        self.tail += text
        blocks: list[str] = []
        while True:
            end = _block_end(self.tail)
            if end is None:
                return blocks
            block, self.tail = self.tail[:end], self.tail[end:].lstrip("\n")
            if block.strip():
                blocks.append(block.rstrip("\n"))

    def flush(self) -> str:
        """The rest, once the text is complete ('' when there is none)."""
        rest, self.tail = self.tail.strip("\n"), ""
        return rest if rest.strip() else ""


def _block_end(text: str) -> int | None:
    """Where the first complete block of ``text`` ends (a blank line outside a fence)."""
    fence: str | None = None
    position = 0
    lines = text.split("\n")
    for index, line in enumerate(lines[:-1]):  # the last piece has no newline yet
        position += len(line) + 1
        opener = _FENCE.match(line)
        if opener is not None:
            mark = opener.group(1)
            if fence is None:
                fence = mark[0] * 3
            elif mark.startswith(fence):
                fence = None
            continue
        if fence is None and not line.strip() and index > 0:
            return position
    return None
