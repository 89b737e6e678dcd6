"""Turns a model spec (``sonnet``, ``claude-...``, ``openai:gpt-5``, ``scripted:run.yaml``) into a
Model, importing a provider's adapter only when that provider is chosen.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.errors import UserError
from backend_agent.models.base import Model
from backend_agent.models.catalog import ALIASES, resolve_alias
from backend_agent.settings import SettingsFiles

if TYPE_CHECKING:
    from backend_agent.models.config import ModelSettings

DEFAULT_MODEL = "sonnet"
MODEL_ENV = "BACKEND_AGENT_MODEL"
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4-", "chatgpt-")


@dataclass(frozen=True)
class ModelChoice:
    """What the user chose about the model (``--model``, ``--base-url``); None: not given."""

    name: str | None = None
    base_url: str | None = None
    max_output_tokens: int | None = None  # None: env, settings, then the model catalog


def choose_model_spec(
    cli_model: str | None, agent_model: str | None, settings: SettingsFiles | None = None
) -> str:
    """``--model`` over the agent's ``model`` over the configuration (``BACKEND_AGENT_MODEL``,
    then the ``model`` key of the run's settings files) over the default."""
    return (
        cli_model
        or agent_model
        or os.environ.get(MODEL_ENV)
        or (settings.model if settings is not None else None)
        or DEFAULT_MODEL
    )


def open_model(
    choice: ModelChoice,
    agent_model: str | None,
    settings: SettingsFiles,
    warn: Callable[[str], None] | None = None,
) -> Model:
    """The Model of a run: the chosen spec (see ``choose_model_spec``) at the chosen URL, with
    the output limit, prices, timeouts and retries of the flags, environment and settings;
    retry notices go to ``warn`` (the session's warnings), else to stderr."""
    from backend_agent.models.config import ModelSettings

    model_settings = ModelSettings.load(settings, choice.max_output_tokens, warn)
    spec = choose_model_spec(choice.name, agent_model, settings)
    return create_model(spec, base_url=choice.base_url, settings=model_settings)


def create_model(
    spec: str, *, base_url: str | None = None, settings: ModelSettings | None = None
) -> Model:
    """The Model for ``spec``; UserError when the spec names no known provider. ``settings``
    (output limit, prices, timeouts, retries) default to the environment's."""
    provider, model_id = _split(spec.strip())
    if provider == "scripted":
        from backend_agent.models.scripted import ScriptedModel

        return ScriptedModel.from_file(Path(model_id).expanduser())
    if provider == "anthropic":
        from backend_agent.models.anthropic import AnthropicModel

        return AnthropicModel(resolve_alias(model_id), base_url=base_url, settings=settings)
    from backend_agent.models.openai import OpenAIModel

    return OpenAIModel(model_id, base_url=base_url, settings=settings)


def _split(spec: str) -> tuple[str, str]:
    """(provider, model id) for a spec, with the provider inferred when it is not written."""
    provider, sep, rest = spec.partition(":")
    if sep and provider in ("anthropic", "openai", "scripted"):
        if not rest:
            raise UserError(f"--model {spec!r}: missing the model id after '{provider}:'")
        return provider, rest
    if spec.lower() in ALIASES or spec.startswith("claude-"):
        return "anthropic", spec
    if spec.startswith(_OPENAI_PREFIXES):
        return "openai", spec
    raise UserError(
        f"unknown model {spec!r}: use opus, sonnet, haiku, a claude-... id, "
        "anthropic:<id>, openai:<id> (also for OpenAI-compatible servers), or scripted:<file>"
    )
