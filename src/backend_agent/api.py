"""The Python entry points that run an agent the way the command line does."""

from __future__ import annotations

from pathlib import Path

from backend_agent.models.registry import ModelChoice
from backend_agent.runtime.events import EventHandler
from backend_agent.runtime.results import Limits, RunResult
from backend_agent.sessions.config import AgentChoice, SessionConfig
from backend_agent.sessions.session import Session


def run(
    prompt: str,
    *,
    cwd: str | Path = ".",
    model: str | None = None,
    agent: str | None = None,
    agent_file: str | Path | None = None,
    max_turns: int | None = None,
    max_budget_usd: float | None = None,
    on_event: EventHandler | None = None,
) -> RunResult:
    """Run one prompt headless in a new session, as ``backend-agent -p`` does; the session's
    transcript is kept as for the CLI."""
    config = SessionConfig(
        cwd=Path(cwd).resolve(),
        agent=AgentChoice(name=agent, file=Path(agent_file) if agent_file is not None else None),
        model=ModelChoice(model),
        limits=Limits(max_turns, max_budget_usd),
    )
    with Session.open(config) as session:
        return session.prompt(prompt, on_event)
