"""Rewind as a user runs it: files changed by Edit and by shell commands come back, ignored
files and files the session never touched stay, and changes made outside the session since
are never overwritten without asking (interactive) or --force (headless)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from backend_agent.models.scripted import ScriptedModel
from backend_agent.permissions import PermissionOptions
from backend_agent.sessions.checkpoints import RewindConflict
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.session import Session

from .helpers import cli

EDIT_AND_SED = [
    {"tool_calls": [{"name": "Read", "input": {"file_path": "app.py"}}]},
    {
        "tool_calls": [
            {
                "name": "Edit",
                "input": {"file_path": "app.py", "old_string": "v1", "new_string": "v2"},
            },
            {
                "name": "Bash",
                "input": {"command": "sed -i s/alpha/ALPHA/ data.txt && echo noise >> debug.log"},
            },
        ]
    },
    "Changed app.py and data.txt.",
]


@pytest.fixture
def repo(project: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / ".gitignore").write_text("*.log\n")
    (project / "app.py").write_text("VERSION = 'v1'\n")
    (project / "data.txt").write_text("alpha\nbeta\n")
    (project / "untouched.txt").write_text("as it was\n")
    (project / "debug.log").write_text("old\n")
    return project


def run_edit_and_sed(repo: Path, env: dict[str, str], script: Any) -> str:
    args = ["-p", "bump the version", "--output-format", "json", "--model", script(EDIT_AND_SED)]
    done = cli([*args, "--permission-mode", "acceptEdits", "--allowedTools", "Bash"], env, repo)
    assert done.returncode == 0, done.stderr
    assert (repo / "app.py").read_text() == "VERSION = 'v2'\n"
    assert (repo / "data.txt").read_text() == "ALPHA\nbeta\n"
    session_id: str = json.loads(done.stdout)["session_id"]
    return session_id


def test_rewind_code_restores_an_edit_and_a_sed_and_leaves_ignored_files(
    repo: Path, env: dict[str, str], script: Any
) -> None:
    session_id = run_edit_and_sed(repo, env, script)
    listing = cli(["rewind"], env, repo)
    assert "1. " in listing.stdout and "bump the version" in listing.stdout

    done = cli(["rewind", session_id[:8], "--to", "1", "--code"], env, repo)

    assert done.returncode == 0, done.stderr
    assert (repo / "app.py").read_text() == "VERSION = 'v1'\n"
    assert (repo / "data.txt").read_text() == "alpha\nbeta\n"
    assert (repo / "debug.log").read_text() == "old\nnoise\n"  # ignored: left alone
    assert (repo / "untouched.txt").read_text() == "as it was\n"
    assert "Restored 2 files." in done.stdout
    assert "app.py" in done.stdout and "data.txt" in done.stdout


def test_a_file_changed_outside_the_session_is_not_overwritten_without_force(
    repo: Path, env: dict[str, str], script: Any
) -> None:
    run_edit_and_sed(repo, env, script)
    (repo / "app.py").write_text("VERSION = 'edited by hand'\n")

    refused = cli(["rewind", "--to", "1", "--code"], env, repo)
    assert refused.returncode == 2
    assert "app.py" in refused.stderr and "--force" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert (repo / "app.py").read_text() == "VERSION = 'edited by hand'\n"
    assert (repo / "data.txt").read_text() == "ALPHA\nbeta\n"  # nothing was written

    forced = cli(["rewind", "--to", "1", "--code", "--force"], env, repo)
    assert forced.returncode == 0, forced.stderr
    assert (repo / "app.py").read_text() == "VERSION = 'v1'\n"


def test_rewinding_both_makes_the_next_prompt_continue_from_before(
    repo: Path, env: dict[str, str], script: Any
) -> None:
    session_id = run_edit_and_sed(repo, env, script)
    follow = cli(["-p", "second", "-c", "--model", script(["second answer"])], env, repo)
    assert follow.returncode == 0, follow.stderr

    done = cli(["rewind", "--to", "2"], env, repo)  # --both is the default
    assert done.returncode == 0, done.stderr
    assert "Restored 0 files." in done.stdout and f"-r {session_id}" in done.stdout
    again = cli(
        ["-p", "second, again", "-c", "--output-format", "stream-json", "--model", script(["ok"])],
        env,
        repo,
    )
    assert again.returncode == 0, again.stderr
    home = Path(env["BACKEND_AGENT_HOME"])
    path = next(home.glob(f"projects/*/{session_id}.jsonl"))
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    by_id = {e["uuid"]: e for e in entries}
    chain, entry = [], entries[-1]
    while entry is not None:
        chain.append(entry)
        entry = by_id.get(entry["parentUuid"])
    prompts = [e["prompt"] for e in reversed(chain) if e.get("origin") == "prompt"]
    assert prompts == ["bump the version", "second, again"]
    assert [e.get("prompt") for e in entries if e.get("origin") == "prompt"] == [
        "bump the version",
        "second",
        "second, again",
    ]


def test_out_of_range_and_unknown_sessions_are_clear_errors(
    repo: Path, env: dict[str, str], script: Any
) -> None:
    run_edit_and_sed(repo, env, script)
    done = cli(["rewind", "--to", "5"], env, repo)
    assert done.returncode == 2 and "has prompts 1 to 1" in done.stderr
    missing = cli(["rewind", "nope", "--to", "1"], env, repo)
    assert missing.returncode == 2 and "no session 'nope'" in missing.stderr


def test_rewind_where_no_session_ran_says_there_is_nothing_to_rewind(
    project: Path, env: dict[str, str]
) -> None:
    done = cli(["rewind", "--to", "1"], env, project)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"backend-agent: error: no session recorded in {project.resolve()}; nothing to rewind "
        "here (--cwd DIR for another directory)"
    )


def test_the_session_object_rewinds_code_and_conversation_together(repo: Path) -> None:
    model = ScriptedModel.from_data({"turns": [*EDIT_AND_SED, "second answer", "again"]})
    config = SessionConfig(cwd=repo, permissions=PermissionOptions(mode="bypassPermissions"))
    with Session.open(config, model=model) as session:
        session.prompt("bump the version")
        session.prompt("and then?")
        assert session.changed_files() == ["app.py", "data.txt"]  # debug.log is ignored
        assert session.changed_files(since_prompt=2) == []
        (repo / "data.txt").write_text("hand-made\n")
        plan = session.plan_rewind(1)
        assert sorted(plan.files) == ["app.py", "data.txt"] and plan.conflicts == ["data.txt"]
        with pytest.raises(RewindConflict):
            session.rewind(1)
        assert (repo / "app.py").read_text() == "VERSION = 'v2'\n"
        outcome = session.rewind(1, force=True)
        assert sorted(outcome.restored) == ["app.py", "data.txt"]
        assert session.messages == []
        assert (repo / "data.txt").read_text() == "alpha\nbeta\n"
        session.prompt("start over")
        assert [p.text for p in session.prompts] == ["start over"]
        assert session.plan_rewind(1).files == []  # nothing changed since the rewind
