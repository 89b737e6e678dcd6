"""The Python entry points: ``open_session`` (a conversation), ``query`` (one prompt, streamed)
and ``run`` (one prompt, its result). Each takes the same keyword options, ``SessionOptions``,
and runs the agent exactly as the command line does: settings, permissions, hooks, sandbox,
MCP servers and a recorded transcript.

Every option can be given as plain, picklable data (strings, lists, dicts), so a batch runner
can hand a task's options to a worker process; objects (a Model, a store, callables) are
accepted where a program wants them.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

from backend_agent.definitions import AgentDefinition, PermissionMode
from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.evidence.options import EVIDENCE_MODES, EvidenceMode, EvidenceOptions
from backend_agent.mcp.config import parse_servers
from backend_agent.mcp.startup import McpOptions
from backend_agent.models.base import Model
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PERMISSION_MODES, PermissionOptions
from backend_agent.permissions.callback import CanUseTool
from backend_agent.permissions.hooks import HookEntry, python_hooks
from backend_agent.runtime.context import ContextOptions, parse_threshold
from backend_agent.runtime.events import AgentEvent, EventHandler
from backend_agent.runtime.results import Limits, RunResult
from backend_agent.sessions.config import AgentChoice, ResumeChoice, SessionConfig
from backend_agent.sessions.session import Session
from backend_agent.sessions.store import SessionStore
from backend_agent.settings import ALL_SCOPES, SettingsScope
from backend_agent.tools.python import FunctionTool, python_tools

Sandbox = Literal["auto", "required", "off"]
PathArgument = str | os.PathLike[str]


class SessionOptions(TypedDict, total=False):
    """The keyword options of ``open_session``, ``query`` and ``run``; all optional.

    - ``agent``: a name (``"backend-agent"``, the default), a path to an agent file (a
      ``Path``, or a string ending in ``.md``), or an ``AgentDefinition``.
    - ``model``: a model spec as ``--model`` takes it (``"sonnet"``, ``"openai:gpt-5"``,
      ``"scripted:run.yaml"``) or a ``Model`` object; ``base_url`` as ``--base-url``.
    - ``max_output_tokens``: as ``--max-output-tokens``.
    - ``permission_mode``, ``allowed_tools``, ``disallowed_tools``, ``add_dirs``, ``sandbox``,
      ``sandbox_network``: as the command line's flags (rules in settings syntax, e.g.
      ``"Bash(npm test:*)"``); ``available_tools`` as ``--tools`` (the only built-in and MCP
      tools offered; ``[]`` for none).
    - ``can_use_tool``: decides the calls that would ask the user (see ``Allow``/``Deny``);
      without it such calls are refused, as in ``-p`` mode.
    - ``hooks``: ``{event: [callable | command | {"matcher": ..., "hooks": [...]}]}``.
    - ``tools``: Python functions (``@backend_agent.tool``) served as ``mcp__sdk__<name>``.
    - ``mcp_servers``: ``{name: entry}`` as in ``.mcp.json``, or the path of such a file;
      ``strict_mcp_config`` uses only these.
    - ``setting_sources``: which settings files are read (``()``: none); ``settings``: more
      settings files or JSON, as ``--settings``.
    - ``agents``: extra agent definitions by name, as ``--agents`` (``{"name": {"description":
      ..., "prompt": ...}}``).
    - ``system_prompt`` replaces the agent's prompt; ``append_system_prompt`` adds to it.
    - ``compact_threshold`` as ``--compact-threshold`` (``0.7``, ``"70%"`` or ``"off"``);
      ``context_window``: the model's window in tokens (for local models), as
      ``BACKEND_AGENT_CONTEXT_WINDOW``.
    - ``evidence_check``: ``"revise"``, ``"warn"`` or ``"off"``, as ``--evidence-check``.
    - ``max_turns``, ``max_budget_usd``: when a prompt's run stops early.
    - ``resume`` (a session id or unique prefix) or ``continue_conversation`` (the latest
      session of ``cwd``) continue a conversation; ``fork`` continues it under a new id;
      ``session_id`` names a new session.
    - ``session_store``: where the transcript goes (default: JSONL files under
      ``~/.backend-agent/projects``); ``checkpoints``: record the work tree for rewind.
    - ``on_warning``: receives warnings (default: printed to stderr).
    """

    agent: str | os.PathLike[str] | AgentDefinition | None
    model: str | Model | None
    base_url: str | None
    max_output_tokens: int | None
    permission_mode: PermissionMode | None
    allowed_tools: Sequence[str]
    disallowed_tools: Sequence[str]
    available_tools: Sequence[str] | None
    add_dirs: Sequence[PathArgument]
    sandbox: Sandbox | None
    sandbox_network: bool | None
    can_use_tool: CanUseTool | None
    hooks: Mapping[str, Sequence[HookEntry]] | None
    tools: Sequence[FunctionTool[..., Any] | Callable[..., Any]]
    mcp_servers: Mapping[str, Mapping[str, Any]] | PathArgument | None
    strict_mcp_config: bool
    setting_sources: Sequence[SettingsScope]
    settings: Sequence[str]
    agents: Mapping[str, Mapping[str, Any]] | None
    system_prompt: str | None
    append_system_prompt: str | None
    max_turns: int | None
    max_budget_usd: float | None
    compact_threshold: float | str | None
    context_window: int | None
    evidence_check: EvidenceMode | None
    resume: str | None
    continue_conversation: bool
    fork: bool
    session_id: str | None
    session_store: SessionStore | None
    checkpoints: bool
    on_warning: Callable[[str], None] | None


_OPTION_NAMES = frozenset(SessionOptions.__optional_keys__)


def open_session(cwd: PathArgument = ".", **options: Unpack[SessionOptions]) -> Session:
    """Open a session in ``cwd``: a new conversation, or the one ``resume`` names. Use it as a
    context manager (or call ``close()``); send prompts with ``prompt``, ``stream`` or
    ``astream``. UserError for anything the caller must fix (the message says what)."""
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise TypeError(f"open_session() got unexpected keyword argument(s): {', '.join(unknown)}")
    model = options.get("model")
    warn = options.get("on_warning") or warn_to_stderr
    return Session.open(
        session_config(cwd, options),
        model=None if model is None or isinstance(model, str) else model,
        can_use_tool=options.get("can_use_tool"),
        tools=python_tools(options.get("tools", ())),
        store=options.get("session_store"),
        warn=warn,
    )


def session_config(cwd: PathArgument, options: SessionOptions) -> SessionConfig:
    """The SessionConfig the options describe (a Model object, callables and the store are
    handed to ``Session.open`` separately)."""
    mode = options.get("permission_mode")
    if mode is not None and mode not in PERMISSION_MODES:
        raise UserError(f"permission_mode={mode!r}: choose one of {', '.join(PERMISSION_MODES)}")
    sandbox = options.get("sandbox")
    if sandbox is not None and sandbox not in ("auto", "required", "off"):
        raise UserError(f"sandbox={sandbox!r}: choose auto, required or off")
    evidence = options.get("evidence_check")
    if evidence is not None and evidence not in EVIDENCE_MODES:
        raise UserError(f"evidence_check={evidence!r}: choose one of {', '.join(EVIDENCE_MODES)}")
    model = options.get("model")
    limits = Limits(options.get("max_turns"), options.get("max_budget_usd"))
    return SessionConfig(
        cwd=Path(cwd).expanduser().resolve(),
        agent=_agent_choice(options),
        model=ModelChoice(
            model if isinstance(model, str) else None,
            options.get("base_url"),
            _positive(options.get("max_output_tokens"), "max_output_tokens"),
        ),
        permissions=PermissionOptions(
            mode=mode,
            allowed_tools=list(options.get("allowed_tools", ())),
            disallowed_tools=list(options.get("disallowed_tools", ())),
            add_dirs=[Path(d).expanduser().resolve() for d in options.get("add_dirs", ())],
            sandbox=sandbox,
            sandbox_network=options.get("sandbox_network"),
            hooks=python_hooks(options.get("hooks") or {}, "open_session(hooks=...)"),
        ),
        mcp=McpOptions(
            _mcp_configs(options.get("mcp_servers")), options.get("strict_mcp_config", False)
        ),
        limits=limits,
        context=_context_options(options),
        settings=list(options.get("settings", ())),
        setting_scopes=tuple(options.get("setting_sources", ALL_SCOPES)),
        resume=ResumeChoice(
            latest=options.get("continue_conversation", False),
            session=options.get("resume"),
            fork=options.get("fork", False),
            new_id=options.get("session_id"),
        ),
        checkpoints=options.get("checkpoints", True),
        evidence=EvidenceOptions(evidence),
    )


async def query(
    prompt: str, *, cwd: PathArgument = ".", **options: Unpack[SessionOptions]
) -> AsyncGenerator[AgentEvent, None]:
    """Run one prompt in a new session and give its events as they happen, the last one
    ``RunFinished`` with the result; the session is closed at the end (or when the caller
    stops iterating, which interrupts the run)."""
    session = await asyncio.to_thread(open_session, cwd, **options)
    events = session.astream(prompt)
    try:
        async for event in events:
            yield event
    finally:
        await events.aclose()
        await asyncio.to_thread(session.close)


def run(
    prompt: str,
    *,
    cwd: PathArgument = ".",
    on_event: EventHandler | None = None,
    **options: Unpack[SessionOptions],
) -> RunResult:
    """Run one prompt in a new session, as ``backend-agent -p`` does, and return its result;
    ``on_event`` sees every event as it happens. The transcript is kept as for the CLI."""
    with open_session(cwd, **options) as session:
        return session.prompt(prompt, on_event)


def _agent_choice(options: SessionOptions) -> AgentChoice:
    """A name, a file (a path, or a string ending in ``.md``), or a whole definition."""
    agent = options.get("agent")
    extra = options.get("agents")
    available = options.get("available_tools")
    choice = AgentChoice(
        agents_json=None if extra is None else json.dumps({k: dict(v) for k, v in extra.items()}),
        system_prompt=options.get("system_prompt"),
        append_system_prompt=options.get("append_system_prompt"),
        tools=None if available is None else list(available),
    )
    if isinstance(agent, AgentDefinition):
        choice.definition = agent
    elif isinstance(agent, str) and not agent.endswith(".md"):
        choice.name = agent
    elif agent is not None:
        choice.file = Path(agent).expanduser()
    return choice


def _context_options(options: SessionOptions) -> ContextOptions:
    """``compact_threshold`` and ``context_window`` as the context settings they stand for."""
    threshold = options.get("compact_threshold")
    chosen = ContextOptions()
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, str | int | float):
            raise UserError(f"compact_threshold={threshold!r}: give 0.8, '80%' or 'off'")
        chosen = parse_threshold(str(threshold), "compact_threshold")
    window = _positive(options.get("context_window"), "context_window")
    return replace(chosen, window=window)


def _positive(value: int | None, name: str) -> int | None:
    """``value`` when it is a whole number ≥ 1 (or None); UserError naming ``name`` otherwise."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UserError(f"{name}={value!r}: expected a positive whole number")
    return value


def _mcp_configs(servers: Mapping[str, Mapping[str, Any]] | PathArgument | None) -> list[str]:
    """``mcp_servers`` as ``--mcp-config`` values: a file's path, or the servers as JSON."""
    if servers is None:
        return []
    if isinstance(servers, (str, os.PathLike)):
        return [str(Path(servers).expanduser())]
    document = {"mcpServers": {name: dict(entry) for name, entry in servers.items()}}
    parse_servers(document, "open_session(mcp_servers=...)")  # errors named for the caller
    return [json.dumps(document)]
