"""The system prompt: agent body, environment block, memory files, overrides."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

from backend_agent.runtime.prompt import build_system_prompt, memory_files


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_environment_block_has_directory_platform_date_and_git_status(project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    (project / "new.py").write_text("x = 1\n")
    prompt = build_system_prompt("You are a tester.", project)

    assert prompt.startswith("You are a tester.\n")
    assert f"Working directory: {project}" in prompt
    assert "Platform: linux" in prompt
    assert datetime.date.today().isoformat() in prompt
    assert "Git repository: yes" in prompt
    assert "## No commits yet on main" in prompt and "?? new.py" in prompt


def test_outside_a_repository_there_is_no_git_status(project: Path) -> None:
    assert "Git repository: no" in build_system_prompt("p", project)


def test_memory_files_from_home_then_repository_root_down_to_cwd(
    project: Path, isolated_home: Path
) -> None:
    git(project, "init", "-q")
    service = project / "services" / "api"
    service.mkdir(parents=True)
    (isolated_home / ".claude").mkdir()
    (isolated_home / ".claude" / "CLAUDE.md").write_text("USER CLAUDE")
    (isolated_home / ".backend-agent").mkdir()
    (isolated_home / ".backend-agent" / "AGENTS.md").write_text("USER AGENTS")
    (project / "CLAUDE.md").write_text("ROOT CLAUDE")
    (project / "AGENTS.md").write_text("ROOT AGENTS")
    (service / "CLAUDE.md").write_text("SERVICE CLAUDE")

    found = memory_files(service)
    prompt = build_system_prompt("p", service)

    assert [p.read_text() for p in found] == [
        "USER CLAUDE",
        "USER AGENTS",
        "ROOT CLAUDE",
        "ROOT AGENTS",
        "SERVICE CLAUDE",
    ]
    positions = [prompt.index(text) for text in ("USER CLAUDE", "ROOT CLAUDE", "SERVICE CLAUDE")]
    assert positions == sorted(positions)
    assert f'<memory-file path="{service / "CLAUDE.md"}">' in prompt


def test_system_prompt_replaces_the_body_and_append_comes_after(project: Path) -> None:
    (project / "CLAUDE.md").write_text("MEMORY")
    prompt = build_system_prompt(
        "AGENT BODY", project, system_prompt="REPLACEMENT", append_system_prompt="APPENDED"
    )
    assert "AGENT BODY" not in prompt
    assert prompt.index("REPLACEMENT") < prompt.index("MEMORY") < prompt.index("APPENDED")
