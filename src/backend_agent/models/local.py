"""What an OpenAI-compatible server says about its context size, so the output limit of a local
model can be kept to a part of it.

Asked once per run, only when the user set no output limit: ``GET /props`` (llama.cpp's
server: the context it was started with), then ``GET <base>/models`` (vLLM's
``max_model_len``, llama.cpp's ``meta.n_ctx_train``, LM Studio's context fields). None when
the server says nothing (Ollama, or a server that does not answer these).
"""

from __future__ import annotations

from typing import Any

from backend_agent.models.http import HttpClient

_CONTEXT_FIELDS = ("max_model_len", "loaded_context_length", "max_context_length", "context_length")


def probe_context(client: HttpClient, model_id: str) -> int | None:
    """The server's context size in tokens for ``model_id``, if it reports one."""
    props = client.get_json("/props")
    if isinstance(props, dict):
        settings = props.get("default_generation_settings")
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        if isinstance(n_ctx, int) and _positive(n_ctx):
            return n_ctx
    listing = client.get_json(f"{client.endpoint.prefix}/models")
    entries = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(entries, list):
        return None
    models = [e for e in entries if isinstance(e, dict)]
    chosen = [e for e in models if e.get("id") == model_id] or (models if len(models) == 1 else [])
    return _context_of(chosen[0]) if chosen else None


def _context_of(entry: dict[str, Any]) -> int | None:
    for name in _CONTEXT_FIELDS:
        if _positive(entry.get(name)):
            return int(entry[name])
    meta = entry.get("meta")
    if isinstance(meta, dict) and _positive(meta.get("n_ctx_train")):
        return int(meta["n_ctx_train"])
    return None


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
