"""Text files on disk: line-ending/BOM-preserving decoding, atomic writes, ``cat -n`` rendering."""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

BOM = b"\xef\xbb\xbf"
MAX_LINE_CHARS = 2000


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

    A symlink is followed: its target is replaced, the link stays.
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None  # new file: the creation mode below (0o666 minus the umask) applies
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
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


def numbered(lines: list[str], first_line: int) -> str:
    """``cat -n`` style: the number right-aligned in 6 columns, ``→``, then the line."""
    return "\n".join(
        f"{number:>6}→{cut_line(line)}" for number, line in enumerate(lines, first_line)
    )


def cut_line(line: str) -> str:
    """A line shortened to MAX_LINE_CHARS, saying so when it was cut."""
    if len(line) <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]}… [line cut: {len(line)} characters in total]"


def snippet(text: str, first: int, last: int, context: int = 4) -> str:
    """Lines ``first``..``last`` (0-based, inclusive) of ``text`` with ``context`` lines around."""
    lines = text.split("\n")
    start = max(first - context, 0)
    end = min(last + context + 1, len(lines))
    return numbered(lines[start:end], start + 1)
