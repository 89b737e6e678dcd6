"""The system prompt of a run: the agent's body, an environment block and the memory files.

Memory files are read from the user's home first (``~/.claude/CLAUDE.md``, then
``$BACKEND_AGENT_HOME/AGENTS.md``), then from the project, from the repository root down to the
working directory (``CLAUDE.md``, ``.claude/CLAUDE.md``, ``CLAUDE.local.md``, ``AGENTS.md`` in
each directory), so the most specific instructions come last.
"""

from __future__ import annotations

import datetime
import platform
import subprocess
from pathlib import Path

from backend_agent import paths

MEMORY_FILE_NAMES = ("CLAUDE.md", ".claude/CLAUDE.md", "CLAUDE.local.md", "AGENTS.md")
MAX_MEMORY_CHARS = 40_000
MAX_STATUS_LINES = 30
MEMORY_INTRO = "Instructions from memory files (follow them; later files are more specific):"


def build_system_prompt(
    agent_prompt: str,
    cwd: Path,
    *,
    system_prompt: str | None = None,
    append_system_prompt: str | None = None,
    extra_context: str = "",
) -> str:
    """``system_prompt`` (when given) replaces the agent's body; the rest is always added."""
    parts = [
        (system_prompt if system_prompt is not None else agent_prompt).strip(),
        environment_block(cwd),
        memory_block(cwd),
        (append_system_prompt or "").strip(),
        extra_context.strip(),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def environment_block(cwd: Path) -> str:
    """Facts about where the agent runs: directory, platform, date and a short git status."""
    status = git_status(cwd)
    lines = [
        "<environment>",
        f"Working directory: {cwd}",
        f"Platform: {platform.system().lower()} ({platform.release()})",
        f"Today's date: {datetime.date.today().isoformat()}",
        f"Git repository: {'yes' if status is not None else 'no'}",
        "</environment>",
    ]
    if status is not None:
        lines += ["", "Git status when this prompt was written (it will not update):", status]
    return "\n".join(lines)


def git_status(cwd: Path) -> str | None:
    """``git status --short --branch``, cut to a few lines; None outside a repository."""
    try:
        done = subprocess.run(
            ["git", "status", "--short", "--branch"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    lines = done.stdout.splitlines()
    if len(lines) > MAX_STATUS_LINES:
        hidden = len(lines) - MAX_STATUS_LINES
        lines = [*lines[:MAX_STATUS_LINES], f"... and {hidden} more changed paths"]
    return "\n".join(lines)


def memory_files(cwd: Path) -> list[Path]:
    """The memory files that exist, user-level first, then project root down to ``cwd``."""
    candidates = [Path.home() / ".claude" / "CLAUDE.md", paths.user_memory_file()]
    for directory in _project_dirs(cwd.resolve()):
        candidates += [directory / name for name in MEMORY_FILE_NAMES]
    seen: set[Path] = set()
    found = []
    for path in candidates:
        resolved = path.resolve()
        if resolved not in seen and path.is_file():
            seen.add(resolved)
            found.append(path)
    return found


def _project_dirs(cwd: Path) -> list[Path]:
    """From the repository root (the nearest parent with ``.git``) down to ``cwd``."""
    chain = [cwd, *cwd.parents]
    root = next((d for d in chain if (d / ".git").exists()), cwd)
    return list(reversed(chain[: chain.index(root) + 1]))


def memory_block(cwd: Path) -> str:
    """The memory files' contents, each under its path; long files are cut with a note."""
    sections = []
    for path in memory_files(cwd):
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError as exc:
            text = f"(this memory file could not be read: {exc.strerror or exc})"
        if len(text) > MAX_MEMORY_CHARS:
            text = text[:MAX_MEMORY_CHARS] + f"\n[... cut at {MAX_MEMORY_CHARS} characters]"
        if text:
            sections.append(f'<memory-file path="{path}">\n{text}\n</memory-file>')
    if not sections:
        return ""
    return "\n\n".join([MEMORY_INTRO, *sections])


def memory_section(system_prompt: str) -> str:
    """The memory files' part of a system prompt built here ('' when it has none)."""
    start = system_prompt.find(MEMORY_INTRO)
    end = system_prompt.rfind("</memory-file>")
    return system_prompt[start : end + len("</memory-file>")] if 0 <= start < end else ""
