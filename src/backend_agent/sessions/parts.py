"""The parts a session owns, built from its configuration: the agent definition, the model,
the tool session (narrowed to the tools the agent may use, saving large outputs to files),
the MCP servers, the permission setup and policy, the system prompt and the context budget.
Settings files are read once, here.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.definitions import AgentDefinition, select_agent
from backend_agent.errors import UserError
from backend_agent.evidence.options import EvidenceMode, choose_mode
from backend_agent.mcp.names import mcp_tool_filter
from backend_agent.mcp.startup import start_run_servers
from backend_agent.models.base import Model
from backend_agent.models.registry import open_model
from backend_agent.permissions import PermissionSetup, prepare_permissions
from backend_agent.permissions.approval import Approver
from backend_agent.permissions.hooks import parse_hooks
from backend_agent.policy import Policy
from backend_agent.runtime.context import ContextBudget, resolve_budget, tool_output_limit
from backend_agent.runtime.prompt import build_system_prompt
from backend_agent.sessions.config import AgentChoice, SessionConfig
from backend_agent.settings import load_settings_files
from backend_agent.tools import ToolSession
from backend_agent.tools.base import Tool
from backend_agent.tools.spill import OutputSpill

BACKEND_SERVER = "backend"  # the built-in MCP server of the evidence tools

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from backend_agent.evidence.source import ProjectEvidence
    from backend_agent.mcp.client import McpManager


@dataclass
class SessionParts:
    """What a session runs with; ``close()`` stops the MCP servers and every shell process."""

    definition: AgentDefinition
    model: Model
    tools: ToolSession
    permissions: PermissionSetup
    policy: Policy
    system_prompt: str  # as built now, before session-start hooks add to it
    context: ContextBudget
    evidence: ProjectEvidence
    evidence_mode: EvidenceMode
    mcp: McpManager | None = None
    scratch: Path | None = None  # a temporary directory removed on close

    def close(self) -> None:
        try:
            if self.mcp is not None:
                self.mcp.close()
        finally:
            self.tools.close()
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)


def build_parts(
    config: SessionConfig,
    *,
    session_id: str,
    transcript_path: Path | None,
    approver: Approver | None,
    model: Model | None,
    warn: Callable[[str], None],
    extra_tools: Sequence[Tool] = (),
) -> SessionParts:
    """Resolve ``config`` into ready parts; UserError for anything the user must fix.
    ``extra_tools`` (a program's Python tools, named ``mcp__<server>__<tool>``) are narrowed
    like MCP tools."""
    cwd = config.cwd
    if not cwd.is_dir():
        raise UserError(f"--cwd {cwd}: not a directory")
    choice = config.agent
    definition = choice.definition or select_agent(
        cwd, name=choice.name, agent_file=choice.file, agents_json=choice.agents_json, warn=warn
    )
    files = load_settings_files(cwd, config.settings, config.setting_scopes)
    if model is None:
        model = open_model(config.model, definition.model, files, warn)
    permissions = prepare_permissions(
        cwd,
        config.permissions,
        files=files,
        agent_mode=definition.permission_mode,
        agent_hooks=parse_hooks(definition.hooks, definition.origin, warn),
        warn=warn,
    )
    context = resolve_budget(model.model_id, config.context, files)
    outputs, scratch = _outputs_directory(transcript_path)
    spill = OutputSpill(outputs, tool_output_limit(config.context, files))
    tools = ToolSession(cwd, launcher=permissions.launcher, spill=spill)
    evidence_mode = choose_mode(config.evidence.mode, [(s.label, s.data) for s in files.sources])
    mcp: McpManager | None = None
    try:
        disallowed = config.permissions.disallowed_tools
        allowed = _allowed_tool_names(tools.tool_names, definition, choice, disallowed)
        for name in tools.tool_names:
            if name not in allowed:
                tools.remove_tool(name)
        keep = mcp_tool_filter(
            [definition.tools, choice.tools], [*definition.disallowed_tools, *disallowed]
        )
        for extra in extra_tools:
            if keep(extra.name):
                tools.add_tool(extra)
        mcp = start_run_servers(
            cwd,
            config.mcp,
            definition,
            tools,
            tools=choice.tools,
            disallowed_tools=disallowed,
            report=warn,
            served_in_process=() if config.mcp.strict else (BACKEND_SERVER,),
        )
        evidence = _backend_server(config, tools, permissions, mcp, keep)
        policy = permissions.policy(
            tools,
            session_id=session_id,
            approver=approver,
            transcript_path=str(transcript_path or ""),
        )
        system_prompt = build_system_prompt(
            definition.prompt,
            cwd,
            system_prompt=choice.system_prompt,
            append_system_prompt=choice.append_system_prompt,
        )
    except BaseException:
        if mcp is not None:
            mcp.close()
        tools.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    return SessionParts(
        definition,
        model,
        tools,
        permissions,
        policy,
        system_prompt,
        context=context,
        evidence=evidence,
        evidence_mode=evidence_mode,
        mcp=mcp,
        scratch=scratch,
    )


def _outputs_directory(transcript_path: Path | None) -> tuple[Path, Path | None]:
    """Where large tool outputs are saved: ``<session-id>/tool-outputs`` beside the transcript
    (created on first use), or a temporary directory, removed on close, for a session kept
    in memory (the second value)."""
    if transcript_path is not None:
        return transcript_path.with_suffix("") / "tool-outputs", None
    scratch = Path(tempfile.mkdtemp(prefix="backend-agent-outputs-"))
    return scratch, scratch


def _backend_server(
    config: SessionConfig,
    tools: ToolSession,
    permissions: PermissionSetup,
    mcp: McpManager | None,
    keep: Callable[[str], bool],
) -> ProjectEvidence:
    """The evidence of the project, and the built-in ``backend`` server's tools over it
    unless ``--strict-mcp-config``, a configured server of the same name, the agent's or the
    run's tool lists (``keep``), or deny rules (settings, ``--disallowedTools``) leave them
    out."""
    from backend_agent.evidence.inprocess import attach_backend_tools
    from backend_agent.evidence.source import ProjectEvidence

    evidence = ProjectEvidence(config.cwd)
    if config.mcp.strict or (mcp is not None and BACKEND_SERVER in mcp.connections):
        return evidence
    rules = permissions.settings.rules

    def wanted(name: str) -> bool:
        denied = any(rule.specifier is None for rule in rules.for_tool("deny", name))
        return keep(name) and not denied

    attach_backend_tools(tools, evidence, wanted)
    return evidence


def _allowed_tool_names(
    available: list[str], definition: AgentDefinition, choice: AgentChoice, disallowed: list[str]
) -> set[str]:
    """The agent's ``tools`` and ``--tools`` narrow the set; ``disallowedTools`` entries naming a
    whole tool remove it (entries with a rule, like ``Bash(rm:*)``, are left to the policy).
    An agent file's list is honoured as written: TodoWrite too is there only when listed (or
    when the agent lists no tools), since every tool's schema is sent with every request; a
    call to a tool the agent lacks is answered with the tools it has."""
    keep = set(available)
    if definition.tools is not None:
        keep &= set(definition.tools)
    if choice.tools is not None:
        keep &= set(choice.tools)
    return keep - {*definition.disallowed_tools, *disallowed}
