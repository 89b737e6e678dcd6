"""The work tree of a task: a local directory worked on in place, or a clone of a git URL
made in the batch's output directory (``DIR/repos/<task id>``, kept for the next run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from backend_agent.batch.tasks import Task, is_git_url
from backend_agent.errors import UserError

REPOS_DIR = "repos"


def work_tree(task: Task, out_dir: Path) -> Path:
    """The directory the task runs in, cloned first when its repo is a git URL."""
    if is_git_url(task.repo):
        return clone(task.repo, out_dir / REPOS_DIR / task.id)
    path = Path(task.repo)
    if not path.is_dir():
        raise UserError(f"repo {task.repo}: not a directory (give a local path or a git URL)")
    return path


def clone(url: str, destination: Path) -> Path:
    """``url`` cloned at ``destination``; an earlier clone there is reused as it is (a rerun
    keeps what the earlier attempt changed). A clone cut short never takes its place."""
    if (destination / ".git").exists():
        return destination
    partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    _git(["clone", "--quiet", "--", url, str(partial)], None, f"cannot clone {url}")
    partial.rename(destination)
    return destination


def switch_to_branch(tree: Path, branch: str) -> None:
    """Put the work tree on ``branch``: created from HEAD when new, switched to when it
    exists (a rerun of the same task lands on the branch its first attempt made)."""
    current = _git(["branch", "--show-current"], tree, "cannot read the current branch")
    if current == branch:
        return
    exists = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        cwd=tree,
        capture_output=True,
    )
    arguments = ["switch", branch] if exists.returncode == 0 else ["switch", "-c", branch]
    _git(arguments, tree, f"cannot switch to branch {branch}")


def _git(arguments: list[str], cwd: Path | None, failure: str) -> str:
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}  # never wait for a password
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=cwd, capture_output=True, text=True, env=environment
        )
    except FileNotFoundError:
        raise UserError("git is not installed (needed for git URLs and branches)") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise UserError(f"{failure}: {lines[-1] if lines else f'git exit {done.returncode}'}")
    return done.stdout.strip()
