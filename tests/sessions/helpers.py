"""Helpers shared by the session tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend_agent.models.registry import ModelChoice
from backend_agent.sessions.config import ResumeChoice, SessionConfig


def config_for(project: Path, model: str, **resume: Any) -> SessionConfig:
    """A session config for ``project`` with a model spec and resume choices."""
    return SessionConfig(cwd=project, model=ModelChoice(model), resume=ResumeChoice(**resume))
