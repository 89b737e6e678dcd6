"""Everything the user chose for one agent run (from CLI flags or the Python API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

OutputFormat = Literal["text", "json", "stream-json"]


@dataclass
class RunOptions:
    """The options of one run; ``None`` means "not given: fall back to agent/settings/default"."""

    cwd: Path = field(default_factory=Path.cwd)
    prompt: str | None = None  # None: interactive mode
    output_format: OutputFormat = "text"
    # which agent
    agent: str | None = None
    agent_file: Path | None = None
    agents_json: str | None = None
    # model
    model: str | None = None
    base_url: str | None = None
    max_output_tokens: int | None = (
        None  # None: $BACKEND_AGENT_MAX_OUTPUT_TOKENS, settings, catalog
    )
    # limits
    max_turns: int | None = None
    max_budget_usd: float | None = None
    # prompt
    system_prompt: str | None = None
    append_system_prompt: str | None = None
    # tools and permissions
    tools: list[str] | None = None
    allowed_tools: list[str] = field(default_factory=list)
    disallowed_tools: list[str] = field(default_factory=list)
    permission_mode: str | None = None
    settings: list[str] = field(default_factory=list)  # files or inline JSON
    add_dirs: list[Path] = field(default_factory=list)
    sandbox: str | None = None  # "auto" | "required" | "off"; None: settings decide
    sandbox_network: bool | None = None  # True opens the network to sandboxed commands
    # MCP
    mcp_configs: list[str] = field(default_factory=list)  # files or inline JSON
    strict_mcp_config: bool = False
    debug: bool = False

    @property
    def interactive(self) -> bool:
        return self.prompt is None
