"""The fault suite runs every test against both providers' fake servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.anthropic_server import AnthropicFake
from fakes.openai_server import OpenAIFake
from fault_harness import Provider, anthropic, openai


@pytest.fixture(params=["anthropic", "openai"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    if request.param == "anthropic":
        with AnthropicFake() as server:
            yield anthropic(server)
    else:
        with OpenAIFake() as server:
            yield openai(server)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def home(isolated_home: Path) -> Path:
    """The run's HOME: the test's private one (tests/conftest.py)."""
    return isolated_home
