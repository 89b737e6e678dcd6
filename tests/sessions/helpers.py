"""Helpers shared by the session tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from backend_agent.models.registry import ModelChoice
from backend_agent.sessions.config import ResumeChoice, SessionConfig


def config_for(project: Path, model: str, **resume: Any) -> SessionConfig:
    """A session config for ``project`` with a model spec and resume choices."""
    return SessionConfig(cwd=project, model=ModelChoice(model), resume=ResumeChoice(**resume))


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``backend-agent ARGS`` as a user would, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "backend_agent", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
