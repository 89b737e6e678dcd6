"""Fixtures for the runtime tests: agents driven by scripted models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backend_agent.definitions import AgentDefinition
from backend_agent.models.scripted import ScriptedModel
from backend_agent.runtime.agent import Agent
from backend_agent.tools import ToolSession


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def session(project: Path) -> Iterator[ToolSession]:
    with ToolSession(project) as tools:
        yield tools


@pytest.fixture
def make_agent(session: ToolSession) -> Callable[..., tuple[Agent, ScriptedModel]]:
    """An Agent whose model replays ``turns`` (scripted-model turn mappings)."""

    def make(
        turns: list[Any],
        *,
        model_id: str = "scripted",
        definition: AgentDefinition | None = None,
        **options: Any,
    ) -> tuple[Agent, ScriptedModel]:
        model = ScriptedModel.from_data({"model": model_id, "turns": turns})
        definition = definition or AgentDefinition(
            name="tester", description="d", prompt="You test."
        )
        return Agent(definition, model, session, **options), model

    return make
