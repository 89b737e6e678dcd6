"""The pieces of the prompt and the screen: streamed Markdown blocks, the per-project history,
completion, and the keys watched while the agent works."""

from __future__ import annotations

import itertools
import os
import pty
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from backend_agent.ui.completion import PromptCompleter
from backend_agent.ui.history import MAX_ENTRIES, ProjectHistory
from backend_agent.ui.keywatch import KeyWatcher
from backend_agent.ui.markdown_stream import MarkdownStream

ANSWER = """Here is the plan.

1. Read the handler
2. Add the check

```python
def f():

    return 1
```

| a | b |
|---|---|
| 1 | 2 |

Done."""
BLOCKS = [
    "Here is the plan.",
    "1. Read the handler\n2. Add the check",
    "```python\ndef f():\n\n    return 1\n```",
    "| a | b |\n|---|---|\n| 1 | 2 |",
]


def blocks_of(pieces: list[str]) -> list[str]:
    stream = MarkdownStream()
    found = [block for piece in pieces for block in stream.feed(piece)]
    rest = stream.flush()
    return [*found, rest] if rest else found


def test_markdown_blocks_end_at_blank_lines_outside_code_fences() -> None:
    assert blocks_of([ANSWER]) == [*BLOCKS, "Done."]
    stream = MarkdownStream()
    assert stream.feed("half a para") == [] and stream.tail == "half a para"


@given(st.lists(st.integers(min_value=0, max_value=len(ANSWER)), max_size=12))
def test_how_the_text_is_cut_into_deltas_changes_no_block(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(ANSWER)]
    pieces = [ANSWER[a:b] for a, b in itertools.pairwise(points)]
    assert blocks_of(pieces) == [*BLOCKS, "Done."]


def test_history_is_per_project_newest_first_and_bounded(tmp_path: Path) -> None:
    file = tmp_path / "history"
    api, web = ProjectHistory(file, tmp_path / "api"), ProjectHistory(file, tmp_path / "web")
    api.store_string("first\nwith two lines")
    web.store_string("elsewhere")
    api.store_string("second")
    assert list(ProjectHistory(file, tmp_path / "api").load_history_strings()) == [
        "second",
        "first\nwith two lines",
    ]
    with file.open("a") as handle:
        handle.write('{"project": "cut sh')  # a line a crash cut short
        handle.write(
            "\n" + "\n".join('{"project": "x", "prompt": "p"}' for _ in range(MAX_ENTRIES))
        )
    assert list(ProjectHistory(file, tmp_path / "web").load_history_strings()) == []
    assert len(file.read_text().splitlines()) == MAX_ENTRIES


def completions(completer: PromptCompleter, text: str) -> list[str]:
    found = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [c.text for c in found]


def test_completion_of_commands_and_paths(tmp_path: Path) -> None:
    (tmp_path / "src" / "handlers").mkdir(parents=True)
    (tmp_path / "src" / "handlers" / "orders.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".env").write_text("")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "orders.js").write_text("")
    completer = PromptCompleter(tmp_path, lambda: [("help", "h"), ("hello", "custom")])
    assert completions(completer, "/he") == ["/help", "/hello"]
    assert completions(completer, "/help me") == []
    assert completions(completer, "read @no") == ["@node_modules/", "@notes.txt"]
    assert completions(completer, "read @src/") == ["@src/handlers/"]
    assert completions(completer, "@.e") == ["@.env"]
    assert completions(completer, "fix @orders") == ["@src/handlers/orders.py"]  # by name
    assert completions(completer, "mail me@no") == []  # not a mention


def test_keys_while_the_agent_works(tmp_path: Path) -> None:
    primary, secondary = pty.openpty()
    escapes: list[str] = []
    modes: list[str] = []
    watcher = KeyWatcher(
        secondary,
        on_escape=lambda: escapes.append("esc"),
        on_shift_tab=lambda: modes.append("next"),
    )
    try:
        watcher.start()
        os.write(primary, b"\x1b[Z")  # Shift+Tab
        _wait(lambda: modes == ["next"])
        os.write(primary, b"fix it\x1b[Aagain")  # an arrow key in the middle is dropped
        _wait(lambda: watcher.typed == "fix itagain")
        os.write(primary, b"\x1b")  # a lone Esc
        _wait(lambda: escapes == ["esc"])
        with watcher.paused():
            os.write(primary, b"\x1b\n")  # an approval prompt reads it: not an interruption
            assert os.read(secondary, 16) == b"\x1b\n"
        assert escapes == ["esc"]
        assert watcher.take_typed() == "fix itagain" and watcher.typed == ""
    finally:
        watcher.stop()
        os.close(primary)
        os.close(secondary)


def _wait(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the watcher did not see the keys"
        time.sleep(0.01)
