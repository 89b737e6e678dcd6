"""Compaction and large outputs in a Session, with scripted models: what is recorded, what a
resumed session sends, memory files re-read, hooks, the context by part, and saved outputs
that Read opens without asking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend_agent.messages import ToolResultBlock, ToolUseBlock
from backend_agent.models.scripted import ScriptedModel
from backend_agent.permissions import PermissionOptions
from backend_agent.runtime.compaction import CONTEXT_TAG
from backend_agent.runtime.context import ContextOptions
from backend_agent.runtime.events import AgentEvent, ContextCompacted
from backend_agent.runtime.records import message_to_dict
from backend_agent.sessions.config import ResumeChoice, SessionConfig
from backend_agent.sessions.session import Session

SUMMARY = "Read the files one by one; nothing changed. Next: answer the user."
SMALL = ContextOptions(window=12_000)  # the built-in prompt and tools take ~2k of it
FILLER = "".join(f"line {n:04d} of a file that only fills the context\n" for n in range(100))


def scripted(*turns: Any, summary: str | None = SUMMARY) -> ScriptedModel:
    data = {"model": "claude-haiku-4-5", "turns": list(turns), "summary": summary}
    return ScriptedModel.from_data(data)


def read(name: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "Read", "input": {"file_path": name}}]}


def entries_of(session: Session) -> list[dict[str, Any]]:
    assert session.transcript_path is not None
    return [json.loads(line) for line in session.transcript_path.read_text().splitlines()]


@pytest.fixture
def files(project: Path) -> Path:
    for n in range(8):
        (project / f"f{n}.txt").write_text(FILLER)
    return project


def config(project: Path, **fields: Any) -> SessionConfig:
    return SessionConfig(cwd=project, context=SMALL, **fields)


def reads(count: int, answer: str = "Done.") -> list[Any]:
    return [*(read(f"f{n}.txt") for n in range(count)), answer]


def test_a_compaction_is_recorded_and_a_resumed_session_sends_the_compacted_context(
    files: Path,
):
    first = scripted(*reads(6))
    events: list[AgentEvent] = []
    with Session.open(config(files), model=first) as session:
        session.prompt("Read the six files, please.", events.append)
        compacted = session.messages
    compactions = [e for e in events if isinstance(e, ContextCompacted)]
    assert compactions, "the 12k window should have been passed"
    boundary = [e for e in entries_of(session) if e.get("subtype") == "compact_boundary"]
    assert len(boundary) == len(compactions)
    assert boundary[-1]["compact_metadata"]["trigger"] == "auto"
    assert boundary[-1]["summary"] == SUMMARY
    pre, post = (boundary[-1]["compact_metadata"][k] for k in ("pre_tokens", "post_tokens"))
    assert post < pre

    second = scripted("Still done.")
    resume = ResumeChoice(session=session.id)
    with Session.open(config(files, resume=resume), model=second) as resumed:
        resumed.prompt("And now?")
    sent = second.requests[0]
    assert sent.messages[0].text.startswith(f"<{CONTEXT_TAG}>")
    assert "Read the six files, please." in sent.messages[0].text
    assert [message_to_dict(m) for m in sent.messages[:-1]] == [
        message_to_dict(m) for m in compacted
    ]
    assert sent.messages[-1].text == "And now?"


def test_every_earlier_prompt_is_in_the_request_after_a_compaction(files: Path):
    model = scripted("One.", "Two.", *reads(6, "Three."))
    prompts = ["Remember: the port is 8080.", "And use Postgres 16.", "Now read all the files."]
    with Session.open(config(files), model=model) as session:
        for text in prompts:
            session.prompt(text)
    after = [r for r in model.requests if r.messages[0].text.startswith(f"<{CONTEXT_TAG}>")]
    assert after
    for request in after:
        sent = json.dumps([message_to_dict(m) for m in request.messages], ensure_ascii=False)
        for text in prompts:
            assert json.dumps(text)[1:-1] in sent


def test_memory_files_are_read_again_at_a_compaction(files: Path):
    (files / "CLAUDE.md").write_text("Use tabs.\n")
    model = scripted(*reads(6))
    with Session.open(config(files), model=model) as session:
        session.prompt("Read the files.", lambda _: None)
        (files / "CLAUDE.md").write_text("Use four spaces.\n")
        session.compact()
    systems = [r.system for r in model.requests]
    assert "Use tabs." in systems[0]
    assert "Use four spaces." in session.agent.system_prompt
    assert "Use tabs." not in session.agent.system_prompt
    prompts = [e for e in entries_of(session) if e.get("subtype") == "system_prompt"]
    assert "Use four spaces." in prompts[-1]["text"]


def test_a_session_carries_its_sections_and_compacts_on_request_with_a_focus(files: Path):
    model = scripted(*reads(2))
    todo = "<todo-list>\n1. [in_progress] read the files\n</todo-list>"
    with Session.open(SessionConfig(cwd=files), model=model) as session:
        session.add_compaction_section(lambda: todo)
        session.prompt("Read two files.")
        done = session.compact("which files were read")
    assert done.trigger == "manual" and todo in done.messages[0].text
    asked = model.requests[-1]
    assert asked.purpose == "summary"
    assert "Give special attention to: which files were read" in asked.messages[-1].text


def test_pre_and_post_compact_hooks_run_and_can_add_instructions(files: Path, tmp_path: Path):
    seen = tmp_path / "seen.jsonl"
    record = f'python3 -c \'import sys; open("{seen}", "a").write(sys.stdin.read() + "\\n")\''
    settings = {
        "hooks": {
            "PreCompact": [
                {"matcher": "manual", "hooks": [{"type": "command", "command": record}]},
                {"hooks": [{"type": "command", "command": "echo Keep the ticket number."}]},
            ],
            "PostCompact": [{"hooks": [{"type": "command", "command": record}]}],
        }
    }
    model = scripted(*reads(2))
    with Session.open(SessionConfig(cwd=files, settings=[json.dumps(settings)]), model=model) as s:
        s.prompt("Read two files.")
        s.compact("the endpoints")
    payloads = [json.loads(line) for line in seen.read_text().splitlines()]
    assert [p["hook_event_name"] for p in payloads] == ["PreCompact", "PostCompact"]
    assert payloads[0]["trigger"] == "manual"
    assert payloads[0]["custom_instructions"] == "the endpoints"
    assert payloads[1]["compact_summary"] == SUMMARY
    asked = model.requests[-1].messages[-1].text
    assert "the endpoints\nKeep the ticket number." in asked


def test_the_context_in_use_is_reported_by_part(files: Path):
    (files / "CLAUDE.md").write_text("Always answer in French.\n" * 20)
    with Session.open(config(files), model=scripted(read("f0.txt"), "Done.")) as session:
        before = session.context_usage()
        session.prompt("Read f0.")
        after = session.context_usage()
    assert before.window == 12_000 and before.output_reserve == 3_000
    assert before.threshold == int(0.8 * 9_000)
    assert before.memory > 100 and before.system > 300 and before.tools > 500
    assert before.messages == 0 and after.messages > 1_000
    assert after.used == after.system + after.memory + after.tools + after.messages
    assert after.free == 12_000 - 3_000 - after.used
    assert after.as_dict()["used"] == after.used


# ---------------------------------------------------------------- large outputs


def bash(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "Bash", "input": {"command": command}}]}


ROWS = "python3 -c \"[print(f'row {i:04d} ' + 'x' * 50) for i in range(1, 601)]\""  # 36 KB


def run_rows(project: Path) -> tuple[Session, str]:
    """A session (closed) whose Bash call printed 36 KB, and what the model got for it."""
    model = scripted(bash(ROWS), "Done.")
    permissions = PermissionOptions(allowed_tools=["Bash"])  # the default mode otherwise
    with Session.open(SessionConfig(cwd=project, permissions=permissions), model=model) as session:
        assert session.prompt("Run it.").subtype == "success"
    result = model.requests[1].messages[-1].content[0]
    assert isinstance(result, ToolResultBlock)
    return session, result.content


def saved_path(preview: str) -> Path:
    return Path(preview.split("The whole output is in ")[1].split(": Read it")[0])


def test_a_36_kb_bash_output_reaches_the_model_as_a_preview_and_a_saved_file(project: Path):
    session, preview = run_rows(project)
    assert len(preview) < 3_000
    assert preview.startswith("row 0001 ") and preview.rstrip().count("row 0600 ") == 1
    assert "lines truncated] ..." in preview and "35,999 characters, 600 lines" in preview
    path = saved_path(preview)
    assert path.read_text().splitlines() == [f"row {i:04d} " + "x" * 50 for i in range(1, 601)]
    assert session.transcript_path is not None
    assert path.parent == session.transcript_path.with_suffix("") / "tool-outputs"


def test_read_and_grep_open_the_saved_output_without_asking_but_edits_still_ask(project: Path):
    model = scripted(bash(ROWS), "Ran it.")
    permissions = PermissionOptions(allowed_tools=["Bash"])
    with Session.open(SessionConfig(cwd=project, permissions=permissions), model=model) as session:
        session.prompt("Run it.")
        result = model.requests[1].messages[-1].content[0]
        assert isinstance(result, ToolResultBlock)
        path = str(saved_path(result.content))
        for name, tool_input in (
            ("Read", {"file_path": path, "offset": 598, "limit": 3}),
            ("Grep", {"pattern": "row 0599", "path": path}),
        ):
            assert session.policy.before_tool(ToolUseBlock("t", name, tool_input)).allowed
        edit = {"file_path": path, "old_string": "row 0001", "new_string": "row 1"}
        assert not session.policy.before_tool(ToolUseBlock("t", "Edit", edit)).allowed
        shown = session.tools.call("Read", {"file_path": path, "offset": 599, "limit": 2})
    assert shown.content.splitlines()[0].endswith("→row 0599 " + "x" * 50)


def test_the_built_in_agent_follows_a_background_command_through_its_log_file(project: Path):
    """The built-in agent has no BashOutput: a background command's output goes to a file in the
    session directory, which Read opens without asking."""
    command = "echo ready; sleep 60"
    model = scripted(
        {
            "tool_calls": [
                {"name": "Bash", "input": {"command": command, "run_in_background": True}}
            ]
        },
        "Started.",
    )
    permissions = PermissionOptions(allowed_tools=["Bash"])  # the default mode otherwise
    with Session.open(SessionConfig(cwd=project, permissions=permissions), model=model) as session:
        assert session.prompt("Start the server.").subtype == "success"
        assert "BashOutput" not in [spec.name for spec in model.requests[0].tools]
        started = model.requests[1].messages[-1].content[0]
        assert isinstance(started, ToolResultBlock) and not started.is_error
        log = started.content.split("is written to ")[1].split(": Read")[0]
        assert session.transcript_path is not None
        assert Path(log).parent == session.transcript_path.with_suffix("") / "tool-outputs"
        read = ToolUseBlock("t", "Read", {"file_path": log})
        assert session.policy.before_tool(read).allowed
