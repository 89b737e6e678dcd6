"""Read pages through any file in bounded memory: lines are streamed, never the whole file."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.tools import ToolSession, textfile
from backend_agent.tools.textfile import MAX_LINE_CHARS, read_lines

HOLE_BYTES = 256 << 20  # 256 MiB of zeros, stored as a hole: costs no disk


def reference(data: bytes, skip: int, count: int) -> tuple[list[str], int]:
    """What a page should hold, computed the simple way: the whole file in memory."""
    if data.startswith(textfile.BOM):
        data = data[len(textfile.BOM) :]
    if not data:
        return [], 0
    lines = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    return [line.decode("utf-8", "replace") for line in lines[skip : skip + count]], len(lines)


LINE_PIECES = st.sampled_from([b"a", b"bc", b"\r", b"\xc3\xa9", b"\xe9", b" ", b"x" * 40])


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.lists(LINE_PIECES, max_size=6).map(b"".join), max_size=12),
    bom=st.booleans(),
    skip=st.integers(min_value=0, max_value=14),
    count=st.integers(min_value=1, max_value=14),
    chunk=st.integers(min_value=1, max_value=9),
)
def test_any_page_of_any_file_matches_reading_it_whole(
    lines: list[bytes],
    bom: bool,
    skip: int,
    count: int,
    chunk: int,
) -> None:
    data = (textfile.BOM if bom else b"") + b"\n".join(lines)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(textfile, "CHUNK_BYTES", chunk)  # lines and CRLFs split across chunks
        page = read_lines(io.BytesIO(data), skip, count)

    expected, total = reference(data, skip, count)
    assert (page.lines, page.total) == (expected, total)
    assert page.lengths == [len(line) for line in expected]


def sparse_file(path: Path, head_lines: int) -> None:
    """Text lines, then a 256 MiB hole (one line of zeros), then a last line."""
    with path.open("wb") as handle:
        handle.write(b"".join(b"line %d\n" % n for n in range(1, head_lines + 1)))
        handle.seek(HOLE_BYTES, 1)
        handle.write(b"\nthe end\n")


def peak_memory_of(action: object) -> int:
    tracemalloc.start()
    try:
        assert callable(action)
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_page_of_a_file_with_a_huge_hole_reads_in_bounded_memory(
    session: ToolSession, tmp_path: Path
) -> None:
    path = tmp_path / "sparse.log"
    sparse_file(path, head_lines=2000)  # the hole starts past the binary sniff
    results = []

    peak = peak_memory_of(
        lambda: results.append(
            session.call("Read", {"file_path": str(path), "offset": 1, "limit": 5})
        )
    )

    result = results[0]
    assert not result.is_error, result.content
    assert result.content.startswith("     1→line 1\n     2→line 2\n")
    assert "(Showed lines 1-5 of 2003." in result.content
    assert peak < 16 * 1024 * 1024


def test_a_huge_line_is_shown_cut_with_its_full_length(
    session: ToolSession, tmp_path: Path
) -> None:
    path = tmp_path / "sparse.log"
    sparse_file(path, head_lines=2000)
    results = []

    peak = peak_memory_of(
        lambda: results.append(
            session.call("Read", {"file_path": str(path), "offset": 2001, "limit": 2})
        )
    )

    content = results[0].content
    first, second = content.split("\n")[:2]
    assert first.startswith("  2001→\0\0\0") and len(first) < MAX_LINE_CHARS + 100
    assert f"[line cut: {HOLE_BYTES} characters in total]" in first
    assert second == "  2002→the end"
    assert peak < 16 * 1024 * 1024
