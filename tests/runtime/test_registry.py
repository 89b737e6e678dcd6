"""Model specs resolve to the right provider, and model choice follows its precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend_agent.errors import UserError
from backend_agent.models.anthropic import AnthropicModel
from backend_agent.models.catalog import ALIASES
from backend_agent.models.openai import OpenAIModel
from backend_agent.models.registry import choose_model_spec, create_model
from backend_agent.models.scripted import ScriptedModel


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(
    ("spec", "provider", "model_id"),
    [
        ("sonnet", AnthropicModel, ALIASES["sonnet"]),
        ("OPUS", AnthropicModel, ALIASES["opus"]),
        ("claude-haiku-4-5-20251001", AnthropicModel, "claude-haiku-4-5-20251001"),
        ("anthropic:my-proxy-model", AnthropicModel, "my-proxy-model"),
        ("openai:llama3.1:8b", OpenAIModel, "llama3.1:8b"),
        ("gpt-5", OpenAIModel, "gpt-5"),
        ("o3", OpenAIModel, "o3"),
        ("o4-mini", OpenAIModel, "o4-mini"),
    ],
)
def test_specs_pick_the_provider(
    spec: str, provider: type, model_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for alias in ("OPUS", "SONNET", "HAIKU"):
        monkeypatch.delenv(f"BACKEND_AGENT_{alias}_MODEL", raising=False)
    model = create_model(spec)
    assert isinstance(model, provider)
    assert model.model_id == model_id


def test_alias_targets_can_be_overridden_by_env(
    keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKEND_AGENT_SONNET_MODEL", "claude-sonnet-4-5-20250929")
    assert create_model("sonnet").model_id == "claude-sonnet-4-5-20250929"


def test_scripted_spec_loads_the_file(tmp_path: Path) -> None:
    script = tmp_path / "turns.json"
    script.write_text('{"model": "demo", "turns": ["hello"]}')
    model = create_model(f"scripted:{script}")
    assert isinstance(model, ScriptedModel) and model.model_id == "demo"


@pytest.mark.parametrize("spec", ["mistral-large", "openai:", "scripted:"])
def test_unknown_or_incomplete_specs_are_user_errors(spec: str) -> None:
    with pytest.raises(UserError):
        create_model(spec)


def test_missing_credentials_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY"):
        create_model("sonnet")
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        create_model("gpt-5")


def test_model_choice_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKEND_AGENT_MODEL", raising=False)
    assert choose_model_spec(None, None) == "sonnet"
    monkeypatch.setenv("BACKEND_AGENT_MODEL", "haiku")
    assert choose_model_spec(None, None) == "haiku"
    assert choose_model_spec(None, "opus") == "opus"
    assert choose_model_spec("openai:gpt-5", "opus") == "openai:gpt-5"
