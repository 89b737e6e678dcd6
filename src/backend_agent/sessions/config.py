"""The configuration of one session, composed from the choices each package owns.

The command line (or the Python API) fills a ``SessionConfig``; ``Session.open`` hands each
part only to its owner: the model choice to ``models``, permissions and the sandbox to
``permissions``, MCP to ``mcp``, limits and the context budget to the loop. What only a UI
needs (the prompt, the output format) never enters it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from backend_agent.definitions import AgentDefinition
from backend_agent.evidence.options import EvidenceOptions
from backend_agent.mcp.startup import McpOptions
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions
from backend_agent.runtime.context import ContextOptions
from backend_agent.runtime.results import Limits
from backend_agent.settings import ALL_SCOPES, SettingsScope


@dataclass
class AgentChoice:
    """Which agent runs, and how its prompt and tools are adjusted; None: not given."""

    name: str | None = None
    file: Path | None = None
    definition: AgentDefinition | None = None  # given whole (Python API): name and file unused
    agents_json: str | None = None  # extra agents, ``--agents``
    system_prompt: str | None = None  # replaces the agent's body
    append_system_prompt: str | None = None
    tools: list[str] | None = None  # the only tools available (``--tools``)


@dataclass
class ResumeChoice:
    """Which conversation the session continues: a new one unless ``latest`` (``--continue``)
    or ``session`` (``--resume ID``); ``fork`` continues it under a new id; ``new_id`` is the
    id of a new session (``--session-id``)."""

    latest: bool = False
    session: str | None = None
    fork: bool = False
    new_id: str | None = None

    @property
    def resumes(self) -> bool:
        return self.latest or self.session is not None


@dataclass
class SessionConfig:
    """Everything the user chose for a session, each part for the package that owns it."""

    cwd: Path = field(default_factory=Path.cwd)
    agent: AgentChoice = field(default_factory=AgentChoice)
    model: ModelChoice = field(default_factory=ModelChoice)
    permissions: PermissionOptions = field(default_factory=PermissionOptions)
    mcp: McpOptions = field(default_factory=McpOptions)
    limits: Limits = field(default_factory=Limits)
    context: ContextOptions = field(default_factory=ContextOptions)  # window, compaction, spill
    settings: list[str] = field(default_factory=list)  # ``--settings`` files or JSON
    setting_scopes: tuple[SettingsScope, ...] = ALL_SCOPES
    resume: ResumeChoice = field(default_factory=ResumeChoice)
    checkpoints: bool = True  # record the work tree at each prompt, for rewind
    evidence: EvidenceOptions = field(default_factory=EvidenceOptions)  # the report check
