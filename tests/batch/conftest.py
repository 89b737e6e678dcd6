"""Fixtures for batch tests: three small git repositories, scripted models, and the
``backend-agent batch`` command run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPOS = {
    "orders": {
        "app.py": (
            "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
            '@app.route("/orders", methods=["POST"])\ndef create_order():\n    return "ok"\n'
        ),
    },
    "users": {
        "server.js": (
            "const express = require('express');\nconst app = express();\n"
            "app.get('/users', (req, res) => res.json([]));\n"
            "app.delete('/users/:id', (req, res) => res.sendStatus(204));\n"
            "app.listen(3000);\n"
        ),
    },
    "billing": {
        "migrations/0001_invoices.sql": "CREATE TABLE invoices (id bigint, total int);\n",
        "migrations/0002_drop_total.sql": "ALTER TABLE invoices DROP COLUMN total;\n",
    },
}
# What the notes script costs on claude-sonnet-4-5: 2100 input and 60 output tokens.
NOTES_COST = (2100 * 3 + 60 * 15) / 1_000_000
NOTES_USAGE = {
    "input_tokens": 2100,
    "output_tokens": 60,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}
# A Bash step that says it started, then waits for the test to let it go.
WAIT_FOR_GO = "touch STARTED; until [ -f GO ]; do sleep 0.05; done; echo released"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "initial")
    return root


@pytest.fixture
def repos(tmp_path: Path) -> dict[str, Path]:
    """Three repositories: a Flask app, an Express app, SQL migrations."""
    return {name: make_repo(tmp_path / "repos" / name, files) for name, files in REPOS.items()}


@pytest.fixture
def script(tmp_path: Path) -> Callable[..., str]:
    """Write a scripted model (its turns) to a file; returns the ``scripted:`` model spec."""
    count = 0

    def write(turns: list[Any], model: str = "claude-sonnet-4-5") -> str:
        nonlocal count
        count += 1
        path = tmp_path / f"script-{count}.yaml"
        path.write_text(yaml.safe_dump({"model": model, "turns": turns}))
        return f"scripted:{path}"

    return write


@pytest.fixture
def notes_script(script: Callable[..., str]) -> str:
    """Two turns: write NOTES.md, then answer "notes written"."""
    return script(
        [
            {
                "text": "Writing the notes.",
                "tool_calls": [
                    {"name": "Write", "input": {"file_path": "NOTES.md", "content": "notes\n"}}
                ],
                "usage": {"input_tokens": 1000, "output_tokens": 50},
            },
            {"text": "notes written", "usage": {"input_tokens": 1100, "output_tokens": 10}},
        ]
    )


@pytest.fixture
def waiting_script(script: Callable[..., str]) -> str:
    """A Bash step that blocks until the test creates GO in the work tree, then an answer."""
    return script(
        [
            {
                "tool_calls": [{"name": "Bash", "input": {"command": WAIT_FOR_GO}}],
                "usage": {"input_tokens": 1000, "output_tokens": 50},
            },
            {"text": "released", "usage": {"input_tokens": 1100, "output_tokens": 10}},
        ]
    )


def waiting_task(task_id: str, repo: Path, script: str) -> dict[str, Any]:
    """A prompt task that runs ``waiting_script`` (Bash allowed) in ``repo``."""
    return {"id": task_id, "repo": str(repo), "prompt": "Wait", "model": script,
            "permission_mode": "bypassPermissions"}  # fmt: skip


def write_tasks(
    path: Path, tasks: list[dict[str, Any]], defaults: dict[str, Any] | None = None
) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(task) + "\n" for task in tasks))
    else:
        path.write_text(yaml.safe_dump({"defaults": defaults or {}, "tasks": tasks}))
    return path


def batch_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "backend_agent", "batch", *map(str, args)]


def start_batch(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The batch command started in the background, its output captured."""
    return subprocess.Popen(
        batch_command(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip


def run_batch_command(
    *args: str | Path, cwd: Path, timeout: float = 240, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        batch_command(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def results(out: Path) -> dict[str, dict[str, Any]]:
    """The latest results.jsonl line of each task."""
    lines = (out / "results.jsonl").read_text().splitlines()
    return {entry["id"]: entry for entry in map(json.loads, lines)}


def wait_for(check: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def worker_pid(out: Path, task_id: str) -> int:
    return int(json.loads((out / "tasks" / task_id / "worker.json").read_text())["pid"])


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaps, as under some container inits, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def six_tasks(repos: dict[str, Path], tmp_path: Path, notes: str) -> Path:
    """Six tasks over the three repositories: a prompt and a report on each; two of them
    on clones of ``file://`` URLs, one prompt on a new branch, one report of a change."""
    git(repos["billing"], "rm", "-q", "migrations/0002_drop_total.sql")
    git(repos["billing"], "commit", "-qm", "keep total")
    git(repos["billing"], "revert", "--no-edit", "HEAD")  # HEAD~1..HEAD drops the column again
    tasks = [
        {
            "id": "orders-notes",
            "repo": str(repos["orders"]),
            "prompt": "Write notes",
            "branch": "batch/notes",
        },
        {"id": "orders-report", "repo": str(repos["orders"]), "report": True},
        {"id": "users-notes", "repo": repos["users"].as_uri(), "prompt": "Write notes"},
        {"id": "users-report", "repo": str(repos["users"]), "report": True, "format": "html"},
        {"id": "billing-notes", "repo": str(repos["billing"]), "prompt": "Write notes"},
        {
            "id": "billing-report",
            "repo": repos["billing"].as_uri(),
            "report": True,
            "format": "json",
            "base": "HEAD~1",
        },
    ]
    return write_tasks(
        tmp_path / "tasks.jsonl",
        [
            {**t, "model": notes, "permission_mode": "acceptEdits"} if "prompt" in t else t
            for t in tasks
        ],
    )


def check_six_results(out: Path, repos: dict[str, Path]) -> None:
    """Every result line of ``six_tasks`` is right and every transcript and report exists."""
    found = results(out)
    assert sorted(found) == sorted(
        [
            "orders-notes",
            "orders-report",
            "users-notes",
            "users-report",
            "billing-notes",
            "billing-report",
        ]
    )
    trees = {
        "orders-notes": repos["orders"],
        "users-notes": out / "repos" / "users-notes",
        "billing-notes": repos["billing"],
    }
    for task_id, tree in trees.items():
        line = found[task_id]
        assert (line["kind"], line["status"], line["subtype"]) == ("prompt", "ok", "success")
        assert line["result"] == "notes written" and line["num_turns"] == 2
        assert line["cost_usd"] == pytest.approx(NOTES_COST) and line["usage"] == NOTES_USAGE
        assert line["changed_files"] == ["NOTES.md"] and line["report"] is None
        assert line["repo"] == str(tree) and (tree / "NOTES.md").read_text() == "notes\n"
        assert line["transcript"] == f"tasks/{task_id}/{line['session_id']}.jsonl"
        entries = [json.loads(x) for x in (out / line["transcript"]).read_text().splitlines()]
        assert entries[0]["subtype"] == "init" and entries[0]["cwd"] == str(tree)
        assert entries[-1]["type"] == "result" and entries[-1]["session_id"] == line["session_id"]
        assert any(e.get("prompt") == "Write notes" for e in entries)
    assert not (repos["users"] / "NOTES.md").exists()  # the clone was changed, not the origin
    assert git(repos["orders"], "branch", "--show-current").strip() == "batch/notes"

    for task_id, fmt in [("orders-report", "md"), ("users-report", "html"),
                         ("billing-report", "json")]:  # fmt: skip
        line = found[task_id]
        assert (line["kind"], line["status"], line["subtype"]) == ("report", "ok", "success")
        assert line["report"] == f"tasks/{task_id}/report.{fmt}"
        assert (out / line["report"]).stat().st_size > 0
        assert (out / "tasks" / task_id / "report.json").is_file()
        assert line["session_id"] is None and line["cost_usd"] == 0
    assert found["orders-report"]["result"].startswith("1 endpoints, 0 migrations, ")
    assert found["users-report"]["result"].startswith("2 endpoints, 0 migrations, ")
    assert "<h2>Endpoints/Contracts</h2>" in (out / "tasks/users-report/report.html").read_text()
    billing = json.loads((out / "tasks/billing-report/report.json").read_text())
    assert found["billing-report"]["changed_files"] == ["migrations/0002_drop_total.sql"]
    assert "drop-column" in {risk["rule"] for risk in billing["risks"]}
    assert found["billing-report"]["repo"] == str(out / "repos" / "billing-report")
