"""``backend-agent queues`` end to end, as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from queues_support import FIXTURES, commit_all, init_repo


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend_agent", "queues", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )


def test_json_output_has_the_documented_shape() -> None:
    result = run(str(FIXTURES / "go"), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"channels", "jobs", "unresolved"}
    channel = document["channels"][0]
    assert {"broker", "name", "producers", "consumers"} <= set(channel)
    assert (
        set(channel["producers"][0]) == {"file", "line", "symbol"} if channel["producers"] else True
    )
    job = document["jobs"][0]
    assert {"framework", "name", "queue", "defined_at", "enqueued_at", "schedule"} <= set(job)


def test_table_output_lists_channels_and_jobs() -> None:
    result = run(str(FIXTURES / "javascript"))
    assert result.returncode == 0, result.stderr
    assert "order.created" in result.stdout
    assert "src/kafka.ts:13 orderCreated" in result.stdout
    assert "welcome" in result.stdout and "src/signup.ts:4" in result.stdout
    assert "1 unresolved" in result.stdout


def test_asyncapi_output_is_a_document() -> None:
    result = run(str(FIXTURES / "ruby"), "--format", "asyncapi")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["asyncapi"] == "3.0.0"


def test_base_adds_changes(tmp_path: Path) -> None:
    init_repo(tmp_path)
    worker = "class W\n  include Sidekiq::Job\n  sidekiq_options queue: '{queue}'\n"
    worker += "\n  def perform(id)\n  end\nend\n"
    (tmp_path / "w.rb").write_text(worker.format(queue="low"))
    commit_all(tmp_path)
    (tmp_path / "w.rb").write_text(worker.format(queue="high"))
    result = run(".", "--base", "HEAD", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert [(c["rule"], c["compatibility"], c["file"], c["line"]) for c in changes] == [
        ("job-queue-changed", "breaking", "w.rb", 1)
    ]


def test_bad_revision_is_one_clear_line(tmp_path: Path) -> None:
    init_repo(tmp_path)
    (tmp_path / "a.py").write_text("x = 1\n")
    commit_all(tmp_path)
    result = run(".", "--base", "no-such-rev", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("backend-agent: error: unknown git revision 'no-such-rev'")
    assert "git log --oneline" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_revision_outside_git_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    result = run(".", "--base", "main", cwd=tmp_path)
    assert result.returncode == 2
    assert "is not in a git repository" in result.stderr and "git init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_listed_in_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backend_agent", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "queues" in result.stdout
