"""Text files on disk: line-ending/BOM-preserving decoding, atomic writes, ``cat -n`` rendering."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from backend_agent.tools.pending import temp_path

BOM = b"\xef\xbb\xbf"
MAX_LINE_CHARS = 2000
KEEP_LINE_BYTES = 4 * MAX_LINE_CHARS + 8
"""Enough UTF-8 bytes for MAX_LINE_CHARS characters and the sign that a line goes on."""
CHUNK_BYTES = 1 << 20
_NOT_CONTINUATION = bytes(b for b in range(256) if not 0x80 <= b <= 0xBF)


@dataclass(frozen=True)
class TextForm:
    """How a file spells its text: a UTF-8 BOM or not, CRLF or LF line endings."""

    bom: bool = False
    crlf: bool = False

    def encode(self, text: str) -> bytes:
        """``text`` (with ``\\n`` line endings) as bytes in this form."""
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return (BOM if self.bom else b"") + text.encode("utf-8", "surrogateescape")


def decode(data: bytes) -> tuple[str, TextForm]:
    """The file's text with CRLF normalised to LF (only when every line ends in CRLF).

    Undecodable bytes survive a decode/encode round trip (``surrogateescape``), so an edit
    never damages the parts of a file it does not touch.
    """
    bom = data.startswith(BOM)
    text = (
        data[len(BOM) :].decode("utf-8", "surrogateescape")
        if bom
        else data.decode("utf-8", "surrogateescape")
    )
    newlines = text.count("\n")
    crlf = newlines > 0 and text.count("\r\n") == newlines
    if crlf:
        text = text.replace("\r\n", "\n")
    return text, TextForm(bom=bom, crlf=crlf)


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory, fsync, rename; keep permission bits.
    The temporary file is hidden, and removed at the next start if the process is killed
    midway (see ``tools.pending``).

    A symlink is followed: its target is replaced, the link stays.
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None  # new file: the creation mode below (0o666 minus the umask) applies
    temp = temp_path(target)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def numbered(lines: list[str], first_line: int, lengths: Sequence[int] | None = None) -> str:
    """``cat -n`` style: the number right-aligned in 6 columns, ``→``, then the line.

    ``lengths`` are the lines' full lengths in characters when only their start was read.
    """
    return "\n".join(
        f"{number:>6}→{cut_line(line, lengths[index] if lengths else None)}"
        for index, (number, line) in enumerate(enumerate(lines, first_line))
    )


def cut_line(line: str, length: int | None = None) -> str:
    """A line shortened to MAX_LINE_CHARS, saying so (with its full length) when it was cut."""
    length = len(line) if length is None else length
    if length <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]}… [line cut: {length} characters in total]"


@dataclass
class LinePage:
    """Some lines of a file, each kept up to KEEP_LINE_BYTES, and what the whole file holds."""

    lines: list[str] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)  # characters of each whole line
    total: int = 0  # lines in the file: a last line after a final newline counts, empty


def read_lines(handle: BinaryIO, skip: int, count: int) -> LinePage:
    """Lines ``skip``..``skip+count`` (0-based; split on ``\\n``, a ``\\r`` before it dropped)
    of a file read from its start, and its line count.

    Streams the file in chunks: memory stays within the lines returned (each cut to
    KEEP_LINE_BYTES) plus one chunk, whatever the file's size or line lengths.
    """
    page = LinePage()
    if handle.read(len(BOM)) != BOM:
        handle.seek(0)
    kept: list[bytes] = []  # the start of the line being read, when it is selected
    kept_size = chars = 0
    line = 0
    seen_any = False
    while chunk := handle.read(CHUNK_BYTES):
        seen_any = True
        newlines = chunk.count(b"\n")
        if line + newlines < skip or line >= skip + count:  # no selected line in this chunk
            line += newlines
            continue
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if skip <= line < skip + count:
                kept_size, chars = _keep(kept, kept_size, chars, piece)
            if end < 0:
                break
            if skip <= line < skip + count:
                _finish_line(page, kept, chars)
                kept, kept_size, chars = [], 0, 0
            line += 1
            start = end + 1
    if seen_any:
        if skip <= line < skip + count:
            _finish_line(page, kept, chars)
        page.total = line + 1
    return page


def _keep(kept: list[bytes], size: int, chars: int, piece: bytes) -> tuple[int, int]:
    """Add ``piece`` of a selected line: its bytes up to the cap, its characters counted."""
    if size < KEEP_LINE_BYTES:
        kept.append(piece[: KEEP_LINE_BYTES - size])
    return size + len(piece), chars + len(piece) - len(piece.translate(None, _NOT_CONTINUATION))


def _finish_line(page: LinePage, kept: list[bytes], chars: int) -> None:
    data = b"".join(kept)
    if data.endswith(b"\r") and len(data) < KEEP_LINE_BYTES:
        data, chars = data[:-1], chars - 1
    page.lines.append(data.decode("utf-8", "replace"))
    page.lengths.append(chars)


def snippet(text: str, first: int, last: int, context: int = 4) -> str:
    """Lines ``first``..``last`` (0-based, inclusive) of ``text`` with ``context`` lines around."""
    lines = text.split("\n")
    start = max(first - context, 0)
    end = min(last + context + 1, len(lines))
    return numbered(lines[start:end], start + 1)
