"""Large tool outputs saved to files: what the model sees instead, which tools it applies to,
and that nothing of the output is lost."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.permissions.decisions import PermissionEngine
from backend_agent.permissions.paths import Workspace
from backend_agent.permissions.rules import RuleSet
from backend_agent.tools import ToolResult, ToolSession
from backend_agent.tools.spill import OutputSpill, preview


@pytest.fixture
def spilling(tmp_path: Path) -> Iterator[ToolSession]:
    """A tool session in ``tmp_path/project`` saving outputs over 2,000 characters."""
    (tmp_path / "project").mkdir()
    spill = OutputSpill(tmp_path / "outputs", limit=2_000)
    with ToolSession(tmp_path / "project", spill=spill) as tools:
        yield tools


def saved(content: str) -> Path:
    match = re.search(r"The whole output is in (\S+): Read it", content)
    assert match, content
    return Path(match.group(1))


def test_a_large_bash_output_is_saved_whole_and_previewed(spilling: ToolSession):
    result = spilling.call("Bash", {"command": "seq 1 50000"})
    assert not result.is_error
    assert len(result.content) < 1_000
    assert result.content.startswith("1\n2\n3\n") and result.content.count("50000") == 1
    assert "(Output too long for the context: 288,893 characters, 50,000 lines." in result.content
    assert saved(result.content).read_text() == "\n".join(map(str, range(1, 50_001)))


def test_a_failing_command_keeps_its_exit_code_first_and_stays_an_error(spilling: ToolSession):
    result = spilling.call("Bash", {"command": "seq 1 5000; exit 3"})
    assert result.is_error and result.content.startswith("Exit code 3\n1\n2\n")
    assert saved(result.content).read_text().startswith("Exit code 3\n1\n")


def test_grep_output_is_spilled_but_read_pages_as_it_always_did(spilling: ToolSession):
    lines = "".join(f"match number {n}\n" for n in range(2_000))
    (spilling.cwd / "big.txt").write_text(lines)
    grep = spilling.call("Grep", {"pattern": "match", "output_mode": "content"})
    assert "lines truncated] ..." in grep.content
    assert saved(grep.content).read_text().count("match number") == 2_000
    read = spilling.call("Read", {"file_path": "big.txt"})
    assert "The whole output is in" not in read.content
    assert len(read.content) > 30_000


def test_outputs_under_the_limit_are_untouched(spilling: ToolSession):
    result = spilling.call("Bash", {"command": "echo hello"})
    assert result.content == "hello"
    assert not (spilling.spill and spilling.spill.directory.exists())


def test_an_error_result_keeps_its_wrapper(tmp_path: Path):
    spill = OutputSpill(tmp_path, limit=100)
    long_error = ToolResult.error("boom " * 100)
    shown = spill.apply("mcp__db__query", long_error)
    assert shown.is_error
    assert shown.content.startswith("<tool_use_error>boom")
    assert shown.content.endswith("Read it with offset and limit, or Grep it.)</tool_use_error>")
    assert saved(shown.content).read_text() == "boom " * 100
    assert saved(shown.content).name.startswith("mcp__db__query-")


def test_an_output_that_cannot_be_saved_is_still_previewed(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    spill = OutputSpill(blocker / "outputs", limit=100)
    shown = spill.apply("Bash", ToolResult("x\n" * 500))
    assert "could not be saved to a file" in shown.content and len(shown.content) < 600


def test_without_a_spill_outputs_are_cut_at_30000_characters(session: ToolSession):
    result = session.call("Bash", {"command": "seq 1 50000"})
    assert len(result.content) < 30_100 and result.content.endswith("lines truncated] ...")


@settings(max_examples=80, deadline=None)
@given(
    lines=st.lists(st.text(alphabet="ab \t", max_size=120), min_size=1, max_size=400),
    chars=st.integers(400, 3_000),
)
def test_a_preview_is_the_true_head_and_tail_and_counts_what_it_hides(lines: list[str], chars: int):
    text = "\n".join(lines)
    shown = preview(text, chars, "(note)")
    head, rest = shown.split("\n... [", 1)
    hidden, tail = rest.split(" lines truncated] ...\n", 1)
    tail = tail.removesuffix("\n\n(note)")
    assert text.startswith(head)
    assert text.rstrip("\n").endswith(tail) or tail == ""
    assert len(head) + len(tail) <= chars + 1
    total = text.count("\n") + (0 if text.endswith("\n") else 1)
    shown_lines = (head.count("\n") + 1 if head else 0) + (tail.count("\n") + 1 if tail else 0)
    assert int(hidden) >= total - shown_lines - 1


def test_reading_saved_outputs_never_asks_but_changing_them_does(tmp_path: Path):
    project, outputs = tmp_path / "project", tmp_path / "home" / "outputs"
    project.mkdir()
    outputs.mkdir(parents=True)
    (outputs / "Bash-1.txt").write_text("saved\n")
    engine = PermissionEngine(
        "default",
        RuleSet(),
        Workspace.create(project),
        sandboxed=lambda: False,
        readable=(outputs,),
    )
    decide = engine.decide
    where = {"cwd": project, "shell_cwd": project}
    target = str(outputs / "Bash-1.txt")
    assert decide("Read", {"file_path": target}, **where).behavior == "allow"
    assert decide("Grep", {"pattern": "x", "path": str(outputs)}, **where).behavior == "allow"
    assert decide("Edit", {"file_path": target}, **where).behavior == "ask"
    elsewhere = str(tmp_path / "home" / "other.txt")
    assert decide("Read", {"file_path": elsewhere}, **where).behavior == "ask"
