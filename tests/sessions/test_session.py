"""A Session from open to close, in process, with scripted models: what it records, how it
resumes, forks and rewinds its conversation, and how it stops."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import backend_agent
from backend_agent import paths
from backend_agent.errors import UserError
from backend_agent.messages import (
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from backend_agent.models.scripted import ScriptedModel
from backend_agent.permissions import PermissionOptions
from backend_agent.runtime.events import AgentEvent, RunFinished, TextDelta, ToolStart
from backend_agent.runtime.records import message_from_dict, message_to_dict
from backend_agent.sessions.config import AgentChoice, ResumeChoice, SessionConfig
from backend_agent.sessions.session import Session
from backend_agent.sessions.store import CorruptSession, JsonlFileStore, MemoryStore

from .helpers import config_for

READ_NOTES = {"tool_calls": [{"name": "Read", "input": {"file_path": "notes.txt"}}]}


def scripted(*turns: Any) -> ScriptedModel:
    return ScriptedModel.from_data({"model": "claude-haiku-4-5", "turns": list(turns)})


def wire(messages: list[Message]) -> str:
    """Messages as the bytes an adapter is given: their wire-shaped JSON."""
    return json.dumps([message_to_dict(m) for m in messages], ensure_ascii=False)


def open_session(project: Path, model: ScriptedModel, **resume: Any) -> Session:
    config = SessionConfig(cwd=project, resume=ResumeChoice(**resume))
    return Session.open(config, model=model)


def entries_of(session: Session) -> list[dict[str, Any]]:
    assert session.transcript_path is not None
    return [json.loads(line) for line in session.transcript_path.read_text().splitlines()]


@pytest.fixture
def notes(project: Path) -> Path:
    (project / "notes.txt").write_text("first line\n")
    return project


def test_every_entry_is_chained_and_says_where_and_when(notes: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(notes)], check=True)
    with open_session(notes, scripted(READ_NOTES, "It says: first line.")) as session:
        result = session.prompt("read the notes")
    assert result.subtype == "success"
    entries = entries_of(session)
    assert [(e["type"], e.get("origin") or e.get("subtype")) for e in entries] == [
        ("system", "init"),
        ("system", "system_prompt"),
        ("user", "prompt"),
        ("assistant", None),
        ("user", "tool_results"),
        ("assistant", None),
        ("result", "success"),
    ]
    assert [e["parentUuid"] for e in entries] == [None, *(e["uuid"] for e in entries[:-1])]
    assert len({e["uuid"] for e in entries}) == len(entries)
    for entry in entries:
        assert entry["sessionId"] == session.id and entry["cwd"] == str(notes)
        assert entry["gitBranch"] == "trunk"
        assert entry["timestamp"].endswith("Z")
    assert entries[2]["prompt"] == "read the notes"
    assert entries[0]["sandbox"] == session.sandbox


def test_the_python_api_leaves_a_complete_transcript(notes: Path, script: Any) -> None:
    result = backend_agent.run("read the notes", cwd=notes, model=script([READ_NOTES, "Done."]))
    path = paths.session_file(notes, result.session_id)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = [e["type"] for e in entries]
    assert kinds == ["system", "system", "user", "assistant", "user", "assistant", "result"]
    assert entries[-1]["result"] == "Done." and entries[-1]["num_turns"] == 2
    assert "first line" in json.dumps(entries[4]["message"])


def test_events_end_with_the_result(notes: Path) -> None:
    events: list[AgentEvent] = []
    with open_session(notes, scripted(READ_NOTES, "Done.")) as session:
        result = session.prompt("go", events.append)
    assert isinstance(events[-1], RunFinished) and events[-1].result is result
    assert any(isinstance(e, ToolStart) for e in events)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Done."


def test_resume_sends_the_model_exactly_what_it_saw_before(notes: Path) -> None:
    first = scripted(READ_NOTES, "It says: first line.")
    with open_session(notes, first) as session:
        session.prompt("read the notes")
        seen = [*first.requests[-1].messages, session.messages[-1]]
        system, tools = first.requests[-1].system, first.requests[-1].tools

    second = scripted("Still first line.")
    with open_session(notes, second, session=session.id) as resumed:
        assert resumed.id == session.id and resumed.resumed
        resumed.prompt("and now?")
    request = second.requests[0]
    assert wire(request.messages[: len(seen)]) == wire(seen)
    assert request.messages[-1].text == "and now?"
    assert (request.system, request.tools) == (system, tools)


def test_continue_takes_the_latest_session_of_the_directory(notes: Path) -> None:
    with open_session(notes, scripted("one")) as older:
        older.prompt("first session")
    with open_session(notes, scripted("two")) as newer:
        newer.prompt("second session")
    model = scripted("three")
    with open_session(notes, model, latest=True) as continued:
        continued.prompt("go on")
    assert continued.id == newer.id != older.id
    assert [m.text for m in model.requests[0].messages] == ["second session", "two", "go on"]


def test_a_resumed_cost_counts_the_earlier_runs(notes: Path) -> None:
    costly = {"text": "ok", "usage": {"input_tokens": 1_000_000}}
    with open_session(notes, scripted(costly)) as session:
        session.prompt("one")
    with open_session(notes, scripted(costly), session=session.id) as resumed:
        resumed.prompt("two")
        assert resumed.total_cost_usd == pytest.approx(2.0)  # haiku: $1 per million input


def test_fork_continues_under_a_new_id_and_leaves_the_original_unchanged(notes: Path) -> None:
    with open_session(notes, scripted(READ_NOTES, "It says: first line.")) as session:
        session.prompt("read the notes")
    assert session.transcript_path is not None
    original = session.transcript_path.read_bytes()

    model = scripted("Forked answer.")
    with open_session(notes, model, session=session.id, fork=True) as fork:
        fork.prompt("in the fork")
    assert fork.id != session.id and fork.forked_from == session.id
    assert session.transcript_path.read_bytes() == original
    roles = [m.role for m in model.requests[0].messages]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert {e["sessionId"] for e in entries_of(fork)} == {fork.id}
    assert [p.text for p in fork.prompts] == ["read the notes", "in the fork"]


def test_a_fork_can_take_the_id_the_user_chose(notes: Path) -> None:
    with open_session(notes, scripted("one")) as session:
        session.prompt("hi")
    chosen = str(uuid.uuid4())
    with open_session(notes, scripted("two"), session=session.id[:8], fork=True, new_id=chosen):
        pass
    assert paths.session_file(notes, chosen).is_file()


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"session": "nope"}, "no session 'nope' in"),
        ({"latest": True}, "no session recorded in"),
        ({"new_id": "not-a-uuid"}, "--session-id 'not-a-uuid': not a UUID"),
        ({"fork": True}, "--fork-session needs --continue or --resume"),
    ],
)
def test_what_cannot_be_resumed_is_one_clear_error(
    notes: Path, choice: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        open_session(notes, scripted("x"), **choice)


def test_a_session_id_in_use_or_of_another_directory_is_refused(
    notes: Path, tmp_path: Path
) -> None:
    with open_session(notes, scripted("one")) as session:
        session.prompt("hi")
    with pytest.raises(UserError, match="a session with this id exists already"):
        open_session(notes, scripted("x"), new_id=session.id)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(UserError, match=f"was run in {notes}, not {elsewhere}"):
        open_session(elsewhere, scripted("x"), session=session.id)


def test_a_torn_last_line_is_skipped_with_a_warning_and_cut_before_the_next(
    notes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_session(notes, scripted("one")) as session:
        session.prompt("hi")
    path = session.transcript_path
    assert path is not None
    with path.open("a") as transcript:
        transcript.write('{"type": "assistant", "mess')  # killed mid-write
    model = scripted("two")
    with open_session(notes, model, session=session.id) as resumed:
        resumed.prompt("again")
    assert "skipped a truncated last line" in capsys.readouterr().err
    assert [m.text for m in model.requests[0].messages] == ["hi", "one", "again"]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_a_corrupt_line_names_the_file_and_line(notes: Path) -> None:
    with open_session(notes, scripted("one")) as session:
        session.prompt("hi")
    path = session.transcript_path
    assert path is not None
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = "this is not json\n"
    path.write_text("".join(lines))
    with pytest.raises(CorruptSession, match=rf"{path}:2: not a JSON line") as raised:
        open_session(notes, scripted("x"), session=session.id)
    assert str(raised.value).endswith("`backend-agent sessions` lists them), or delete the file")


def test_hooks_receive_the_transcript_path_and_it_exists(notes: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen.jsonl"
    hook = (
        'python3 -c \'import json, os, sys; p = json.load(sys.stdin)["transcript_path"]; '
        f'print(json.dumps([p, os.path.isfile(p)]), file=open("{seen}", "a"))\''
    )
    settings = {
        "hooks": {
            event: [{"hooks": [{"type": "command", "command": hook}]}]
            for event in ("SessionStart", "UserPromptSubmit", "Stop")
        }
    }
    config = SessionConfig(cwd=notes, settings=[json.dumps(settings)])
    with Session.open(config, model=scripted("ok")) as session:
        session.prompt("hi")
    reports = [json.loads(line) for line in seen.read_text().splitlines()]
    assert reports == [[str(session.transcript_path), True]] * 3


def test_session_start_context_is_in_the_system_prompt_and_kept_on_resume(
    notes: Path, tmp_path: Path
) -> None:
    hook = "echo Ticket API-12 is open."
    settings = json.dumps(
        {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": hook}]}]}}
    )
    first = scripted("one")
    with Session.open(SessionConfig(cwd=notes, settings=[settings]), model=first) as session:
        session.prompt("hi")
    assert first.requests[0].system.endswith("Ticket API-12 is open.\n")
    second = scripted("two")
    config = SessionConfig(cwd=notes, settings=[settings], resume=ResumeChoice(session=session.id))
    with Session.open(config, model=second) as resumed:
        resumed.prompt("again")
    request = second.requests[0]
    assert request.system == first.requests[0].system  # the cached prefix stays the same
    assert request.messages[-1].text == "again\n\nTicket API-12 is open."


def test_interrupt_from_another_thread_cancels_a_long_command(notes: Path) -> None:
    marker = notes / "started"
    long_call = {"tool_calls": [{"name": "Bash", "input": {"command": "touch started; sleep 60"}}]}
    config = SessionConfig(cwd=notes, permissions=PermissionOptions(mode="bypassPermissions"))
    with Session.open(config, model=scripted(long_call, "after")) as session:

        def interrupt_when_started() -> None:
            while not marker.exists():
                time.sleep(0.02)
            session.interrupt()

        helper = threading.Thread(target=interrupt_when_started)
        helper.start()
        started = time.monotonic()
        result = session.prompt("run it")
        helper.join()
        assert result.cancelled and result.exit_code == 130
        assert time.monotonic() - started < 30
        follow_up = session.prompt("go on")
    assert follow_up.result == "after"
    last_user = session.messages[-2]
    assert any(isinstance(block, ToolResultBlock) and block.is_error for block in last_user.content)


def test_a_memory_store_gets_every_entry_and_resumes(notes: Path) -> None:
    store = MemoryStore()
    config = SessionConfig(cwd=notes)
    with Session.open(config, model=scripted(READ_NOTES, "done"), store=store) as session:
        session.prompt("read")
        assert session.transcript_path is None
    kinds = [entry["type"] for entry in store.sessions[session.id]]
    assert kinds == ["system", "system", "user", "assistant", "user", "assistant", "result"]
    assert not list(paths.projects_dir().glob("*/*.jsonl"))
    model = scripted("again")
    config.resume = ResumeChoice(latest=True)
    with Session.open(config, model=model, store=store) as resumed:
        resumed.prompt("more")
    assert resumed.id == session.id
    assert [m.role for m in model.requests[0].messages] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]


def test_the_settings_flag_reaches_the_model_choice(notes: Path, script: Any) -> None:
    settings = json.dumps({"model": script(["from --settings"], model="claude-opus-4-1")})
    inherits = json.dumps({"plain": {"description": "d", "prompt": "You help."}})
    config = SessionConfig(
        cwd=notes, agent=AgentChoice("plain", agents_json=inherits), settings=[settings]
    )
    with Session.open(config) as session:
        assert session.model.model_id == "claude-opus-4-1"
        assert session.prompt("hi").result == "from --settings"


def test_conversation_rewind_goes_back_before_a_prompt_and_keeps_the_old_branch(
    notes: Path,
) -> None:
    config = config_for(notes, "unused")
    config.checkpoints = False
    model = scripted("one", "two", "three", "two again")
    with Session.open(config, model=model) as session:
        for text in ("first", "second", "third"):
            session.prompt(text)
        before_second = wire(model.requests[1].messages[:-1])
        outcome = session.rewind(2, code=False)
        assert outcome.prompt.text == "second" and outcome.restored == []
        assert wire(session.messages) == before_second
        session.prompt("second, differently")
        assert [p.text for p in session.prompts] == ["first", "second, differently"]
    assert [m.text for m in model.requests[3].messages] == ["first", "one", "second, differently"]
    texts = [e.get("prompt") for e in entries_of(session) if e.get("origin") == "prompt"]
    assert texts == ["first", "second", "third", "second, differently"]  # history kept
    config.resume = ResumeChoice(session=session.id)
    with (
        Session.open(config, model=scripted("x")) as resumed,
        pytest.raises(UserError, match=r"prompt 1 of session .* has no checkpoint"),
    ):
        resumed.rewind(1, conversation=False)


def test_closing_is_idempotent_and_a_closed_session_refuses_prompts(notes: Path) -> None:
    session = open_session(notes, scripted("one"))
    session.close()
    session.close()
    with pytest.raises(UserError, match="closed"):
        session.prompt("hi")


blocks = st.one_of(
    st.builds(TextBlock, st.text()),
    st.builds(ThinkingBlock, st.text(), st.text()),
    st.builds(ToolUseBlock, st.text(), st.text(), st.dictionaries(st.text(), st.integers())),
    st.builds(
        ToolResultBlock,
        st.text(),
        st.text(),
        st.booleans(),
        st.lists(st.builds(ImageBlock, st.text(), st.just("image/png")), max_size=2).map(tuple),
    ),
)


@given(st.sampled_from(["user", "assistant"]), st.lists(blocks, max_size=5))
def test_messages_read_back_exactly_as_written(role: str, content: list[Any]) -> None:
    message = Message(role, content)  # type: ignore[arg-type]
    line = json.dumps(message_to_dict(message), ensure_ascii=False)
    assert message_from_dict(json.loads(line)) == message


@given(st.text())
def test_any_text_survives_the_file_store(text: str) -> None:
    """Lone surrogates (undecodable bytes kept by surrogateescape) included."""
    directory = Path(tempfile.mkdtemp())
    store = JsonlFileStore(directory)
    entry = {"type": "user", "text": text + "\udcff"}
    store.append("s", [entry, entry])
    assert store.load("s") == [entry, entry]
    shutil.rmtree(directory)
