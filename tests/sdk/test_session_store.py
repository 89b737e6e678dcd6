"""A program's own session store: it receives every entry the file store would, nothing goes
to disk, and sessions resume and fork from it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import backend_agent
from backend_agent import paths
from backend_agent.events import Event, RunFinished

from .conftest import Provider, transcript_lines


class DictStore:
    """What a web service might write: its own class, only append, load and list."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.appends = 0

    def append(self, session_id: str, entries: Sequence[dict[str, Any]]) -> None:
        self.appends += 1
        self.rows.setdefault(session_id, []).extend(dict(entry) for entry in entries)

    def load(self, session_id: str) -> list[dict[str, Any]]:
        if session_id not in self.rows:
            raise KeyError(session_id)
        return [dict(entry) for entry in self.rows[session_id]]

    def list(self) -> list[str]:
        return list(self.rows)


READ = {"tool_calls": [{"name": "Read", "input": {"file_path": "notes.txt"}}]}


def kinds(entries: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["type"], e.get("origin") or e.get("subtype")) for e in entries]


def test_a_custom_store_receives_every_entry_and_resumes(project: Path, provider: Provider) -> None:
    (project / "notes.txt").write_text("ship on friday\n")
    store = DictStore()
    events: list[Event] = []
    with backend_agent.open_session(
        project, session_store=store, **provider.options([READ, "It says ship on friday."])
    ) as session:
        session.prompt("read the notes", on_event=events.append)
        assert session.transcript_path is None
    (session_id,) = store.rows
    entries = store.rows[session_id]
    assert kinds(entries) == [
        ("system", "init"),
        ("system", "system_prompt"),
        ("user", "prompt"),
        ("assistant", None),
        ("user", "tool_results"),
        ("assistant", None),
        ("result", "success"),
    ]
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    result_entry = entries[-1]
    assert {k: result_entry[k] for k in finished.result.to_json()} == finished.result.to_json()
    assert not list(paths.projects_dir().rglob("*.jsonl"))  # nothing went to the file store

    with backend_agent.open_session(
        project, session_store=store, resume=session_id, **provider.options(["Friday."])
    ) as resumed:
        answer = resumed.prompt("when do we ship?")
    assert answer.result == "Friday." and answer.session_id == session_id
    assert [m.text for m in resumed.messages][-2:] == ["when do we ship?", "Friday."]
    assert "ship on friday" in str(resumed.messages[2].content)  # the earlier Read's result
    assert kinds(store.rows[session_id])[-3:] == [
        ("user", "prompt"),
        ("assistant", None),
        ("result", "success"),
    ]


def test_a_fork_from_a_custom_store_leaves_the_original(project: Path, scripted: Provider) -> None:
    store = DictStore()
    with backend_agent.open_session(
        project, session_store=store, **scripted.options(["One."])
    ) as first:
        first.prompt("one")
    before = list(store.rows[first.id])
    with backend_agent.open_session(
        project, session_store=store, resume=first.id, fork=True, **scripted.options(["Two."])
    ) as fork:
        fork.prompt("two")
    assert fork.id != first.id and store.rows[first.id] == before
    assert [m.text for m in fork.messages] == ["one", "One.", "two", "Two."]


def test_the_default_store_is_the_jsonl_file(project: Path, scripted: Provider) -> None:
    with backend_agent.open_session(project, **scripted.options(["Hi."])) as session:
        session.prompt("hi")
    assert session.transcript_path is not None
    assert session.transcript_path.parent.parent == paths.projects_dir()
    assert kinds(transcript_lines(session.transcript_path))[-1] == ("result", "success")


def test_the_memory_store_is_exported_for_tests(project: Path, scripted: Provider) -> None:
    store = backend_agent.MemoryStore()
    with backend_agent.open_session(
        project, session_store=store, **scripted.options(["Hi."])
    ) as session:
        session.prompt("hi")
    assert store.list() == [session.id]
