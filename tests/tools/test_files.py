"""Read, Write, Edit and MultiEdit against real files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from backend_agent.tools import ToolSession


def read(session: ToolSession, path: Path | str, **extra: object) -> str:
    result = session.call("Read", {"file_path": str(path), **extra})
    assert not result.is_error, result.content
    return result.content


# ---------------------------------------------------------------- Read


def test_read_numbers_lines_like_cat_n(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\nbeta\n")
    assert read(session, "a.txt") == "     1→alpha\n     2→beta\n     3→"


def test_read_shows_crlf_lines_without_carriage_returns_and_drops_bom(
    session: ToolSession, tmp_path: Path
) -> None:
    (tmp_path / "w.txt").write_bytes(b"\xef\xbb\xbfone\r\ntwo")
    assert read(session, tmp_path / "w.txt") == "     1→one\n     2→two"


def test_read_pages_with_offset_and_limit_and_says_what_was_shown(
    session: ToolSession, tmp_path: Path
) -> None:
    (tmp_path / "n.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    text = read(session, "n.txt", offset=3, limit=2)
    assert text.startswith("     3→line 3\n     4→line 4\n")
    assert "lines 3-4 of 11" in text


def test_read_defaults_to_2000_lines_and_cuts_long_lines(
    session: ToolSession, tmp_path: Path
) -> None:
    (tmp_path / "long.txt").write_text("x" * 2500 + "\n" + "y\n" * 2100)
    text = read(session, "long.txt")
    first = text.split("\n")[0]
    assert first.startswith("     1→" + "x" * 2000) and "2500 characters" in first
    assert "  2000→y" in text and "  2001→" not in text
    assert "lines 1-2000 of 2102" in text


def test_read_refuses_big_files_without_paging(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("0123456789\n" * 30_000)
    result = session.call("Read", {"file_path": "big.txt"})
    assert result.is_error and "330,000 bytes" in result.content and "offset" in result.content
    assert read(session, "big.txt", offset=29_999, limit=5).startswith(" 29999→0123456789")


def test_read_empty_file_and_offset_past_end_are_reminders(
    session: ToolSession, tmp_path: Path
) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "short.txt").write_text("a\nb")
    assert "empty" in read(session, "empty.txt")
    text = read(session, "short.txt", offset=10)
    assert "<system-reminder>" in text and "2 lines" in text


def test_read_errors_for_missing_directory_and_binary(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x89PNG\0\0\0data")
    (tmp_path / "dir").mkdir()
    for name, words in [
        ("nope.txt", "does not exist"),
        ("dir", "directory"),
        ("blob.bin", "binary"),
    ]:
        result = session.call("Read", {"file_path": name})
        assert result.is_error and words in result.content
        assert result.content.startswith("<tool_use_error>")


def test_relative_paths_resolve_against_root_not_bash_directory(
    session: ToolSession, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "top.txt").write_text("root file")
    session.call("Bash", {"command": "cd sub"})
    assert session.shell_cwd == tmp_path / "sub"
    assert "root file" in read(session, "top.txt")


# ---------------------------------------------------------------- Write


def test_write_creates_file_and_parents(session: ToolSession, tmp_path: Path) -> None:
    result = session.call("Write", {"file_path": "a/b/c.txt", "content": "hello\n"})
    assert not result.is_error and str(tmp_path / "a/b/c.txt") in result.content
    assert (tmp_path / "a/b/c.txt").read_text() == "hello\n"


def test_write_over_unread_file_is_refused(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("old")
    result = session.call("Write", {"file_path": "x.txt", "content": "new"})
    assert result.is_error and "Read it first" in result.content
    assert (tmp_path / "x.txt").read_text() == "old"


def test_write_after_read_replaces_and_keeps_permission_bits(
    session: ToolSession, tmp_path: Path
) -> None:
    script = tmp_path / "run.sh"
    script.write_text("echo old\n")
    script.chmod(0o751)
    read(session, script)
    result = session.call("Write", {"file_path": "run.sh", "content": "echo new\n"})
    assert not result.is_error and "     1→echo new" in result.content
    assert script.read_text() == "echo new\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o751
    assert [p.name for p in tmp_path.iterdir()] == ["run.sh"]  # no temporary file left


def test_write_through_symlink_replaces_target(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to("real.txt")
    read(session, "link.txt")
    assert not session.call("Write", {"file_path": "link.txt", "content": "new"}).is_error
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text() == "new"


# ---------------------------------------------------------------- Edit


def edit(session: ToolSession, path: str, old: str, new: str, **extra: object) -> str:
    result = session.call(
        "Edit", {"file_path": path, "old_string": old, "new_string": new, **extra}
    )
    assert not result.is_error, result.content
    return result.content


def test_edit_replaces_once_and_shows_snippet(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("".join(f"line{i}\n" for i in range(20)))
    read(session, "m.py")
    text = edit(session, "m.py", "line10\n", "changed\nadded\n")
    assert (tmp_path / "m.py").read_text().count("changed\nadded\nline11") == 1
    assert "    11→changed\n    12→added" in text
    assert "     7→line6" in text and "     6→" not in text  # four lines of context


def test_edit_keeps_crlf_line_endings(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    read(session, "w.txt")
    edit(session, "w.txt", "two\nthree", "2\n3\n3.5")
    assert (tmp_path / "w.txt").read_bytes() == b"one\r\n2\r\n3\r\n3.5\r\n"


def test_edit_keeps_utf8_bom(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_bytes(b"\xef\xbb\xbfhello w\xc3\xb6rld\n")
    read(session, "b.txt")
    edit(session, "b.txt", "hello", "bye")
    assert (tmp_path / "b.txt").read_bytes() == b"\xef\xbb\xbfbye w\xc3\xb6rld\n"


def test_edit_keeps_undecodable_bytes_elsewhere(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "l1.txt").write_bytes(b"caf\xe9\nkey = 1\n")
    read(session, "l1.txt")
    edit(session, "l1.txt", "key = 1", "key = 2")
    assert (tmp_path / "l1.txt").read_bytes() == b"caf\xe9\nkey = 2\n"


def test_edit_requires_read_and_refuses_file_changed_on_disk(
    session: ToolSession, tmp_path: Path
) -> None:
    target = tmp_path / "c.txt"
    target.write_text("value = 1\n")
    unread = session.call("Edit", {"file_path": "c.txt", "old_string": "1", "new_string": "2"})
    assert unread.is_error and "Read it first" in unread.content
    read(session, "c.txt")
    target.write_text("value = 10\n")
    changed = session.call("Edit", {"file_path": "c.txt", "old_string": "1", "new_string": "2"})
    assert changed.is_error and "modified on disk" in changed.content
    assert target.read_text() == "value = 10\n"


def test_edit_after_own_write_needs_no_new_read(session: ToolSession, tmp_path: Path) -> None:
    session.call("Write", {"file_path": "n.txt", "content": "a b"})
    edit(session, "n.txt", "a", "c")
    assert (tmp_path / "n.txt").read_text() == "c b"


def test_edit_errors_echo_the_string(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "e.txt").write_text("dup dup\n")
    read(session, "e.txt")
    cases = [
        ({"old_string": "missing", "new_string": "x"}, ["not found", "missing"]),
        ({"old_string": "dup", "new_string": "x"}, ["2 times", "replace_all", "dup"]),
        ({"old_string": "dup", "new_string": "dup"}, ["identical", "dup"]),
    ]
    for fields, words in cases:
        result = session.call("Edit", {"file_path": "e.txt", **fields})
        assert result.is_error
        assert all(word in result.content for word in words), result.content
    assert (tmp_path / "e.txt").read_text() == "dup dup\n"


def test_edit_replace_all_reports_the_count(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("a-a-a-b")
    read(session, "r.txt")
    assert "3 occurrences" in edit(session, "r.txt", "a", "z", replace_all=True)
    assert (tmp_path / "r.txt").read_text() == "z-z-z-b"


def test_edit_with_empty_old_string_creates_file(session: ToolSession, tmp_path: Path) -> None:
    edit(session, "new/f.txt", "", "fresh\n")
    assert (tmp_path / "new/f.txt").read_text() == "fresh\n"
    missing = session.call("Edit", {"file_path": "gone.txt", "old_string": "a", "new_string": "b"})
    assert missing.is_error and "does not exist" in missing.content


# ---------------------------------------------------------------- MultiEdit


def test_multiedit_applies_in_order(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text("one two three")
    read(session, "m.txt")
    edits = [
        {"old_string": "one", "new_string": "1"},
        {"old_string": "1 two", "new_string": "12"},
        {"old_string": "e", "new_string": "E", "replace_all": True},
    ]
    result = session.call("MultiEdit", {"file_path": "m.txt", "edits": edits})
    assert not result.is_error
    assert result.content.count("\n") == 3  # a header, then one line per edit
    assert (tmp_path / "m.txt").read_text() == "12 thrEE"


def test_multiedit_whose_third_edit_fails_writes_nothing(
    session: ToolSession, tmp_path: Path
) -> None:
    target = tmp_path / "m.txt"
    target.write_bytes(b"alpha\r\nbeta\r\n")
    before = target.stat()
    read(session, "m.txt")
    edits = [
        {"old_string": "alpha", "new_string": "A"},
        {"old_string": "beta", "new_string": "B"},
        {"old_string": "gamma", "new_string": "G"},
    ]
    result = session.call("MultiEdit", {"file_path": "m.txt", "edits": edits})
    assert result.is_error and "edits[2]" in result.content and "gamma" in result.content
    assert target.read_bytes() == b"alpha\r\nbeta\r\n"
    assert target.stat().st_mtime_ns == before.st_mtime_ns


def test_multiedit_can_create_a_file_with_an_empty_first_old_string(
    session: ToolSession, tmp_path: Path
) -> None:
    edits = [
        {"old_string": "", "new_string": "hello world\n"},
        {"old_string": "world", "new_string": "there"},
    ]
    assert not session.call("MultiEdit", {"file_path": "n/new.txt", "edits": edits}).is_error
    assert (tmp_path / "n/new.txt").read_text() == "hello there\n"


# ---------------------------------------------------------------- planned_change


def test_planned_change_computes_without_writing(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("x = 1\n")
    read(session, "p.txt")
    plan = session.planned_change(
        "Edit", {"file_path": "p.txt", "old_string": "1", "new_string": "2"}
    )
    assert plan is not None
    assert (plan.path, plan.before, plan.after, plan.is_new) == (
        tmp_path / "p.txt",
        "x = 1\n",
        "x = 2\n",
        False,
    )
    assert (tmp_path / "p.txt").read_text() == "x = 1\n"
    new = session.planned_change("Write", {"file_path": "q.txt", "content": "hi"})
    assert new is not None and new.is_new and new.after == "hi"
    assert not (tmp_path / "q.txt").exists()
    failing = {"file_path": "p.txt", "edits": [{"old_string": "nope", "new_string": "x"}]}
    assert session.planned_change("MultiEdit", failing) is None
    assert session.planned_change("Read", {"file_path": "p.txt"}) is None


def test_write_result_mode_of_new_file_follows_umask(session: ToolSession, tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        session.call("Write", {"file_path": "u.txt", "content": "x"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "u.txt").stat().st_mode) == 0o640


@pytest.mark.parametrize(
    ("tool", "payload", "fields"),
    [
        ("Read", {}, ["file_path: required"]),
        ("Read", {"file_path": "a", "offset": "x", "limit": 0}, ["offset:", "limit:"]),
        ("Write", {"file_path": 3}, ["file_path:", "content: required"]),
        (
            "Edit",
            {"file_path": "a", "old_string": "x", "new_string": "y", "replace_all": "maybe"},
            ["replace_all:"],
        ),
        (
            "Edit",
            {"file_path": "a", "old_string": "x", "new_string": "y", "extra": 1},
            ["extra: unknown field"],
        ),
        ("MultiEdit", {"file_path": "a", "edits": []}, ["edits:"]),
        (
            "MultiEdit",
            {"file_path": "a", "edits": [{"old_string": "x"}]},
            ["edits.0.new_string: required"],
        ),
    ],
)
def test_invalid_input_names_each_bad_field(
    session: ToolSession, tool: str, payload: dict[str, object], fields: list[str]
) -> None:
    result = session.call(tool, payload)
    assert result.is_error and f"Invalid input for {tool}" in result.content
    for field in fields:
        assert field in result.content, result.content


def test_read_refuses_fifo_without_blocking(session: ToolSession, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    result = session.call("Read", {"file_path": "pipe"})
    assert result.is_error and "not a regular file" in result.content
