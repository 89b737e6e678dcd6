"""Builds everything one run needs from its options: the agent definition, the model, the tool
session (filtered to the tools the agent may use), the policy, the system prompt and the
transcript. The CLI and the Python API both start runs through ``assemble``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend_agent.definitions import AgentDefinition, select_agent
from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.mcp.startup import start_run_servers
from backend_agent.models.base import Model
from backend_agent.models.config import ModelSettings
from backend_agent.models.registry import choose_model_spec, create_model
from backend_agent.permissions import PermissionPolicy, PermissionSetup, prepare_permissions
from backend_agent.permissions.hooks import parse_hooks
from backend_agent.runtime.agent import Agent
from backend_agent.runtime.options import RunOptions
from backend_agent.runtime.policy import Policy
from backend_agent.runtime.prompt import build_system_prompt
from backend_agent.runtime.records import init_record
from backend_agent.runtime.transcript import Transcript
from backend_agent.tools import ToolSession

if TYPE_CHECKING:
    from backend_agent.mcp.client import McpManager


@dataclass
class AssembledRun:
    """The parts of a run, ready to go; ``close()`` releases them (background shells, files)."""

    options: RunOptions
    definition: AgentDefinition
    model: Model
    session: ToolSession
    policy: Policy
    agent: Agent
    transcript: Transcript
    mcp: McpManager | None = None  # the run's MCP servers, when any are configured

    @property
    def permission_mode(self) -> str:
        """The mode in force (flag > agent > settings defaultMode > default)."""
        if isinstance(self.policy, PermissionPolicy):
            return self.policy.engine.mode
        return self.options.permission_mode or self.definition.permission_mode or "default"

    def init_record(self) -> dict[str, Any]:
        """The ``system/init`` record: session id, directory, model, tools, agent, mode."""
        return init_record(
            self.agent.session_id,
            cwd=str(self.options.cwd),
            model=self.model.model_id,
            tools=list(self.session.tool_names),
            agent=self.definition.name,
            permission_mode=self.permission_mode,
        )

    def close(self) -> None:
        if self.mcp is not None:
            self.mcp.close()
        self.session.close()
        self.transcript.close()


def assemble(options: RunOptions, *, interactive: bool) -> AssembledRun:
    """Resolve the options into a ready run; UserError for anything the user must fix."""
    if not options.cwd.is_dir():
        raise UserError(f"--cwd {options.cwd}: not a directory")
    definition = select_agent(
        options.cwd,
        name=options.agent,
        agent_file=options.agent_file,
        agents_json=options.agents_json,
    )
    model_spec = choose_model_spec(options.model, definition.model, cwd=options.cwd)
    model_settings = ModelSettings.load(options.cwd, options.max_output_tokens)
    model = create_model(model_spec, base_url=options.base_url, settings=model_settings)
    permissions = prepare_permissions(
        options,
        agent_mode=definition.permission_mode,
        agent_hooks=parse_hooks(definition.hooks, definition.origin),
    )
    session = ToolSession(options.cwd, launcher=permissions.launcher)
    session_id = str(uuid.uuid4())
    mcp: McpManager | None = None
    try:
        allowed = _allowed_tool_names(list(session.tool_names), definition, options)
        for name in list(session.tool_names):
            if name not in allowed:
                session.remove_tool(name)
        mcp = start_run_servers(options, definition, session, report=warn_to_stderr)
        policy = _build_policy(permissions, session, interactive, session_id)
        system_prompt = build_system_prompt(
            definition.prompt,
            options.cwd,
            system_prompt=options.system_prompt,
            append_system_prompt=options.append_system_prompt,
        )
        agent = Agent(
            definition,
            model,
            session,
            policy=policy,
            system_prompt=system_prompt,
            max_turns=options.max_turns,
            max_budget_usd=options.max_budget_usd,
            session_id=session_id,
        )
    except BaseException:
        if mcp is not None:
            mcp.close()
        session.close()
        raise
    assembled = AssembledRun(
        options, definition, model, session, policy, agent, Transcript(agent.session_id), mcp
    )
    assembled.transcript.write(assembled.init_record())
    return assembled


def _allowed_tool_names(
    available: list[str], definition: AgentDefinition, options: RunOptions
) -> set[str]:
    """The agent's ``tools`` and ``--tools`` narrow the set; ``disallowedTools`` entries naming a
    whole tool remove it (entries with a rule, like ``Bash(rm:*)``, are left to the policy)."""
    keep = set(available)
    if definition.tools is not None:
        keep &= set(definition.tools)
    if options.tools is not None:
        keep &= set(options.tools)
    return keep - {*definition.disallowed_tools, *options.disallowed_tools}


def _build_policy(
    permissions: PermissionSetup, session: ToolSession, interactive: bool, session_id: str
) -> Policy:
    """The permissions and hooks of this run (modes, rules, approval prompts, hooks)."""
    return permissions.policy(session, interactive=interactive, session_id=session_id)
