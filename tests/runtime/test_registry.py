"""Model specs resolve to the right provider, and model choice follows its precedence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend_agent.errors import UserError
from backend_agent.models.anthropic import AnthropicModel
from backend_agent.models.catalog import ALIASES
from backend_agent.models.openai import OpenAIModel
from backend_agent.models.registry import choose_model_spec, create_model
from backend_agent.models.scripted import ScriptedModel
from backend_agent.settings import load_settings_files


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


def write_settings(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_settings_files_choose_the_model_below_the_environment(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKEND_AGENT_MODEL", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    write_settings(isolated_home / ".claude" / "settings.json", {"model": "opus"})
    assert choose_model_spec(None, None, load_settings_files(project)) == "opus"
    write_settings(project / ".claude" / "settings.json", {"model": "haiku", "permissions": {}})
    assert choose_model_spec(None, None, load_settings_files(project)) == "haiku"
    write_settings(project / ".claude" / "settings.local.json", {"model": "openai:gpt-5"})
    assert choose_model_spec(None, None, load_settings_files(project)) == "openai:gpt-5"
    assert choose_model_spec(None, "sonnet", load_settings_files(project)) == "sonnet"
    monkeypatch.setenv("BACKEND_AGENT_MODEL", "gpt-5-mini")
    assert choose_model_spec(None, None, load_settings_files(project)) == "gpt-5-mini"


def test_a_settings_file_without_a_model_leaves_the_choice_to_the_others(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKEND_AGENT_MODEL", raising=False)
    write_settings(isolated_home / ".claude" / "settings.json", {"model": "opus"})
    write_settings(tmp_path / ".claude" / "settings.local.json", {"model": "  "})
    write_settings(tmp_path / ".claude" / "settings.json", {"permissions": {"allow": []}})
    assert load_settings_files(tmp_path).model == "opus"
    assert choose_model_spec(None, None, load_settings_files(tmp_path / "elsewhere")) == "opus"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "invalid JSON"),
        (b'{"model": 5}', "model: expected a model name"),
        (b'{"model": "\xff"}', "not UTF-8 text"),
    ],
)
def test_a_bad_settings_model_is_a_user_error_naming_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as raised:
        _ = load_settings_files(tmp_path).model
    assert str(path) in str(raised.value)
