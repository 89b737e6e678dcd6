"""``backend-agent demo``: the bundled sample service, the scripted model, one correction by
the evidence check; headless (json, stream-json, text) and interactive in a real terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect

SRC = Path(__file__).resolve().parents[2] / "src"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # TMPDIR: a demo without DIR makes its repository inside the test's directory, not /tmp
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "backend_agent", "demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def test_headless_demo_is_corrected_once_and_verified(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    done = demo(str(root), "-p", "--output-format", "stream-json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    init, result = records[0], records[-1]
    assert init["agent"] == "backend-agent" and init["permissionMode"] == "acceptEdits"
    corrections = [
        block["text"]
        for record in records
        if record["type"] == "user"
        for block in record["message"]["content"]
        if block["type"] == "text"
    ]
    assert len(corrections) == 1 and "users.legacy_name" in corrections[0]
    assert result["subtype"] == "success" and result["num_turns"] == 5
    assert result["report"]["verified"] is True
    evidence = result["report"]["evidence"]
    assert [(e["method"], e["path"], e["auth"]) for e in evidence["endpoints"]["added"]] == [
        ("POST", "/users/{user_id}/avatar", "required")
    ]
    assert [m["file"] for m in evidence["database"]["migrations"]] == [
        "migrations/versions/0002_drop_legacy_name.py"
    ]
    # The sample is a git repository whose one commit is the service; the change is the agent's.
    assert git(root, "log", "--format=%s").strip() == (
        "users-service: users API with Alembic migrations"
    )
    assert set(git(root, "status", "--short").split()) == {
        "M",
        "app/main.py",
        "app/db.py",
        "??",
        "migrations/versions/0002_drop_legacy_name.py",
        "tests/test_avatar.py",
    }


def test_headless_text_demo_shows_the_story(tmp_path: Path) -> None:
    done = demo("-p", cwd=tmp_path)  # no DIR: a new temporary directory

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "● mcp__backend__project_facts()" in out
    assert "Evidence check: your Backend Agent Report was compared" in out
    assert out.index("- None: no schema change.") < out.index("Evidence check:")
    assert "✓ report verified against the code" in out
    kept = re.search(r"the repository is kept in (\S+)", out)
    assert kept is not None and Path(kept.group(1), "migrations").is_dir()
    assert Path(kept.group(1)).parent == tmp_path


def test_the_sample_is_copied_without_installed_bytecode(tmp_path: Path) -> None:
    from backend_agent.commands.demo import copy_sample

    sample = tmp_path / "sample"
    (sample / "app" / "__pycache__").mkdir(parents=True)
    (sample / "app" / "main.py").write_text("app = 1\n")
    (sample / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\x00")
    (sample / "stray.pyc").write_bytes(b"\x00")
    copy_sample(sample, tmp_path / "repo")
    copied = sorted(
        p.relative_to(tmp_path / "repo").as_posix() for p in (tmp_path / "repo").rglob("*")
    )
    assert copied == ["app", "app/main.py"]


def test_demo_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    done = demo(str(tmp_path / "busy"), "-p", cwd=tmp_path)
    assert done.returncode == 2
    assert "not an empty directory" in done.stderr


def test_interactive_demo_asks_with_the_diff(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "TERM": "xterm-256color"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "backend_agent", "demo", str(tmp_path / "demo")],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=120,
        dimensions=(60, 160),
    )
    screens = []
    try:
        while child.expect([r"Choose \[[0-9/]+\]:", pexpect.EOF]) == 0:
            screens.append(child.before)
            child.sendline("1")
        screens.append(child.before)
    finally:
        child.close()
    text = ANSI.sub("", "".join(screens))
    assert child.exitstatus == 0, text[-2000:]
    assert '+@app.post("/users/{user_id}/avatar", status_code=201)' in text
    assert '+    op.drop_column("users", "legacy_name")' in text
    assert "git status --short" in text
    assert "Evidence check: your Backend Agent Report" in text
    assert "✓ report verified against the code" in text


def test_demo_help_says_what_it_does(tmp_path: Path) -> None:
    done = demo("--help", cwd=tmp_path)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "with a scripted model (no API key)" in text and "-p runs it headless" in text
