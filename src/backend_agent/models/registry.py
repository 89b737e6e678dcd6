"""Turns a model spec (``sonnet``, ``claude-...``, ``openai:gpt-5``, ``scripted:run.yaml``) into a
Model, importing a provider's adapter only when that provider is chosen.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.errors import UserError
from backend_agent.models.base import Model
from backend_agent.models.catalog import ALIASES, resolve_alias

if TYPE_CHECKING:
    from backend_agent.models.config import ModelSettings

DEFAULT_MODEL = "sonnet"
MODEL_ENV = "BACKEND_AGENT_MODEL"
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4-", "chatgpt-")


def choose_model_spec(
    cli_model: str | None, agent_model: str | None, *, cwd: Path | None = None
) -> str:
    """``--model`` over the agent's ``model`` over the configuration (``BACKEND_AGENT_MODEL``,
    then the ``model`` key of the settings files for a run in ``cwd``) over the default.

    ``cwd`` defaults to the process's working directory, which is the run's unless ``--cwd``
    points elsewhere.
    """
    return (
        cli_model
        or agent_model
        or os.environ.get(MODEL_ENV)
        or settings_model(Path.cwd() if cwd is None else cwd)
        or DEFAULT_MODEL
    )


def settings_model(cwd: Path) -> str | None:
    """The ``model`` key of Claude Code's settings files, the most specific file that sets it:
    ``.claude/settings.local.json`` over ``.claude/settings.json`` over
    ``~/.claude/settings.json``. None when no file sets it."""
    from backend_agent.models.config import settings_objects

    chosen: str | None = None
    for path, data in settings_objects(cwd):
        value = data.get("model")
        if value is None:
            continue
        if not isinstance(value, str):
            raise UserError(f"{path}: model: expected a model name such as sonnet or openai:gpt-5")
        chosen = value.strip() or chosen
    return chosen


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
