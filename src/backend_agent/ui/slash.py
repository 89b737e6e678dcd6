"""The slash commands: what each of ``reference.COMMANDS`` does in a conversation.

A typed ``/word`` is a command when it is one word without another ``/`` (``/usr/bin/x`` is
a prompt). Built-in commands win over custom ones of the same name; an unknown ``/word`` is
reported and nothing is sent.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from backend_agent import paths
from backend_agent.definitions import discover_agents
from backend_agent.errors import UserError
from backend_agent.runtime.prompt import MEMORY_FILE_NAMES, memory_files
from backend_agent.sessions import lookup
from backend_agent.sessions.config import AgentChoice, ResumeChoice, SessionConfig
from backend_agent.sessions.store import JsonlFileStore
from backend_agent.ui import panels
from backend_agent.ui.pickers import pick_session, rewind_dialog
from backend_agent.ui.reference import find_command, help_renderable
from backend_agent.ui.render import checklist

if TYPE_CHECKING:
    from backend_agent.ui.interactive import Conversation

Handler = Callable[["Conversation", str], "int | None"]
_COMMAND = re.compile(r"^/([A-Za-z0-9][A-Za-z0-9_.:-]*)(?:\s+(.*))?$", re.DOTALL)
MODEL_ALIASES = ("opus", "sonnet", "haiku")


def parse(text: str) -> tuple[str, str] | None:
    """``(name, arguments)`` when ``text`` is a ``/command``, else None."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return match.group(1), (match.group(2) or "").strip()


def handler(name: str) -> Handler | None:
    """The built-in command ``name`` (or an alias) answers to, if any."""
    command = find_command(name)
    return HANDLERS.get(command.name) if command is not None else None


def dispatch(conversation: Conversation, name: str, arguments: str) -> int | None:
    found = handler(name)
    if found is None:
        conversation.console.print(
            Text(f"Unknown command /{name}: nothing was sent. /help lists the commands.", "yellow")
        )
        return None
    return found(conversation, arguments)


def _say(conversation: Conversation, message: str, style: str = "") -> None:
    conversation.console.print(Text(message, style=style))


# --- the commands --------------------------------------------------------------------


def _help(conversation: Conversation, arguments: str) -> int | None:
    custom = [(c.usage, c.description) for c in conversation.custom.values() if not handler(c.name)]
    conversation.console.print(help_renderable(custom))
    return None


def _clear(conversation: Conversation, arguments: str) -> int | None:
    old = conversation.session.id
    config = _carried(conversation, resume=ResumeChoice())
    if conversation.reopen(config):
        conversation.folded = []
        _say(conversation, f"New conversation (the last one can be resumed: -r {old}).", "dim")
    return None


def _compact(conversation: Conversation, arguments: str) -> int | None:
    _say(conversation, "Compacting the conversation…", "dim")
    try:
        conversation.compact(arguments or None)
    except KeyboardInterrupt:
        _say(conversation, "(compaction cancelled: the conversation is as it was)", "yellow")
    return None


def _resume(conversation: Conversation, arguments: str) -> int | None:
    session = conversation.session
    store = JsonlFileStore.for_cwd(session.cwd)
    others = [s for s in lookup.summaries(store) if s.id != session.id]
    chosen = arguments or pick_session(others, conversation.console, conversation.input.ask)
    if chosen:
        conversation.reopen(_carried(conversation, resume=ResumeChoice(session=chosen)))
    return None


def _rewind(conversation: Conversation, arguments: str) -> int | None:
    ask = conversation.input.ask
    conversation.draft = rewind_dialog(conversation.session, conversation.console, ask)
    return None


def _model(conversation: Conversation, arguments: str) -> int | None:
    session = conversation.session
    if not arguments:
        _say(conversation, f"Model: {session.model.model_id}")
        aliases = ", ".join(MODEL_ALIASES)
        hint = f"/model <name> switches for the next turn: {aliases}, claude-…, openai:<id>"
        _say(conversation, hint, "dim")
        return None
    model = session.switch_model(arguments)
    conversation.config.model = replace(conversation.config.model, name=arguments)
    _say(conversation, f"Model: {model.model_id} (from the next turn)", "green")
    return None


def _cost(conversation: Conversation, arguments: str) -> int | None:
    conversation.console.print(panels.cost_panel(conversation.session))
    return None


def _context(conversation: Conversation, arguments: str) -> int | None:
    conversation.console.print(panels.context_panel(conversation.session))
    return None


def _agents(conversation: Conversation, arguments: str) -> int | None:
    session = conversation.session
    choice = conversation.config.agent
    agents = discover_agents(session.cwd, agents_json=choice.agents_json, warn=conversation.warn)
    if not arguments:
        conversation.console.print(panels.agents_panel(agents, session.definition.name))
        return None
    if arguments not in agents:
        raise UserError(f"no agent named {arguments!r}; /agents lists them")
    agent = replace(choice, name=arguments, file=None, system_prompt=None)
    config = _carried(conversation, resume=ResumeChoice(session=session.id), agent=agent)
    if conversation.reopen(config):
        _say(conversation, f"Agent: {arguments} (the conversation goes on)", "green")
    return None


def _mcp(conversation: Conversation, arguments: str) -> int | None:
    words = arguments.split()
    if not words:
        conversation.console.print(panels.mcp_panel(conversation.session))
        return None
    manager = conversation.session.parts.mcp
    if words[0] != "reconnect" or len(words) != 2:
        raise UserError("usage: /mcp, or /mcp reconnect <server>")
    if manager is None or words[1] not in manager.connections:
        raise UserError(f"no MCP server named {words[1]!r}; /mcp lists them")
    _say(conversation, f"Reconnecting {words[1]}…", "dim")
    connection = manager.reconnect(words[1])
    if connection.status == "connected":
        _say(conversation, f"{words[1]}: connected, {len(connection.tools)} tools", "green")
    else:
        _say(conversation, f"{words[1]}: {connection.status}: {connection.error}", "red")
    return None


def _permissions(conversation: Conversation, arguments: str) -> int | None:
    session = conversation.session
    action, _, rule = arguments.partition(" ")
    if not action:
        conversation.console.print(panels.permissions_panel(session))
        return None
    policy = session.policy
    from backend_agent.permissions import PermissionPolicy

    if not isinstance(policy, PermissionPolicy) or action not in ("allow", "remove") or not rule:
        raise UserError(
            "usage: /permissions, /permissions allow <rule>, /permissions remove <rule>"
        )
    if action == "allow":
        saved = policy.add_allow_rule(rule.strip())
        _say(conversation, f"Allowed {rule.strip()} (saved to {saved})", "green")
    else:
        sources = policy.remove_allow_rule(rule)
        _say(conversation, f"Removed {rule.strip()} (from {', '.join(sources)})", "green")
    return None


def _status(conversation: Conversation, arguments: str) -> int | None:
    conversation.console.print(panels.status_panel(conversation.session))
    return None


def _memory(conversation: Conversation, arguments: str) -> int | None:
    cwd = conversation.session.cwd
    files = memory_choices(cwd)
    if not arguments:
        conversation.console.print(panels.memory_panel(files, cwd))
        arguments = conversation.input.ask(f"Edit which [1-{len(files)}] (Enter cancels): ")
    if not arguments.strip():
        return None
    if not arguments.strip().isdigit() or not 1 <= int(arguments) <= len(files):
        raise UserError(f"/memory {arguments}: choose a number from 1 to {len(files)}")
    path = files[int(arguments) - 1][0]
    open_in_editor(path)
    _say(conversation, f"Saved {path}; it applies from the next session (or /clear).", "dim")
    return None


def memory_choices(cwd: Path) -> list[tuple[Path, bool]]:
    """The memory files that exist, then the two a user usually creates (project AGENTS.md,
    the user's own): ``(path, exists)``."""
    found = [(path, True) for path in memory_files(cwd)]
    known = {path.resolve() for path, _ in found}
    for path in (cwd / MEMORY_FILE_NAMES[-1], paths.user_memory_file()):
        if path.resolve() not in known:
            found.append((path, False))
    return found


def open_in_editor(path: Path) -> None:
    """Open ``path`` in ``$VISUAL`` or ``$EDITOR`` (``vi`` if neither is set) and wait."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run([*shlex.split(editor), str(path)], check=False)
    except OSError as error:
        raise UserError(f"cannot start the editor {editor!r} ($EDITOR): {error}") from error
    if done.returncode != 0:
        raise UserError(f"the editor {editor!r} exited with status {done.returncode}")


def _init(conversation: Conversation, arguments: str) -> int | None:
    from backend_agent.agents_md import write_agents_md  # the evidence engine: load on use

    force = arguments.strip() in ("--force", "force")
    _say(conversation, "Reading the project (stack, tests, endpoints)…", "dim")
    written = write_agents_md(conversation.session.cwd, force=force)
    _say(conversation, f"Wrote {written}: review it; the agent reads it from the next session.")
    return None


def _todos(conversation: Conversation, arguments: str) -> int | None:
    conversation.console.print(checklist(conversation.session.todos))
    return None


def _exit(conversation: Conversation, arguments: str) -> int | None:
    return 0


def _carried(
    conversation: Conversation, resume: ResumeChoice, agent: AgentChoice | None = None
) -> SessionConfig:
    """The conversation's configuration (with the model and mode the user switched to) for
    another session: a new one, another to resume, or this one with another agent."""
    config = conversation.config
    return replace(config, resume=resume, agent=agent or config.agent)


HANDLERS: dict[str, Handler] = {
    "help": _help,
    "clear": _clear,
    "compact": _compact,
    "resume": _resume,
    "rewind": _rewind,
    "model": _model,
    "cost": _cost,
    "context": _context,
    "agents": _agents,
    "mcp": _mcp,
    "permissions": _permissions,
    "status": _status,
    "memory": _memory,
    "init": _init,
    "todos": _todos,
    "exit": _exit,
}
