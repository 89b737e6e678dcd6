"""Agent definitions in Claude Code's format: Markdown with YAML frontmatter, and their discovery.

A definition's body is the agent's system prompt; the frontmatter says which tools, model,
permission mode, color, turn limit and MCP servers it uses. Definitions come from the project
(``.claude/agents/*.md``), the user (``~/.claude/agents/*.md``), the package's built-ins, or
``--agents JSON``; a later source overrides an earlier one with the same name.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.settings import json_object

Source = Literal["built-in", "user", "project", "cli", "file"]

PermissionMode = Literal["default", "acceptEdits", "plan", "dontAsk", "bypassPermissions"]
PERMISSION_MODES: tuple[str, ...] = get_args(PermissionMode)

# Claude Code's agent color names, each with the truecolor hex we render it in.
NAMED_COLORS: dict[str, str] = {
    "red": "#EF4444",
    "orange": "#F97316",
    "yellow": "#EAB308",
    "green": "#22C55E",
    "cyan": "#06B6D4",
    "blue": "#3B82F6",
    "purple": "#A855F7",
    "pink": "#EC4899",
}

# The tools this runtime provides; MCP tools (``mcp__server__tool``) are checked when servers start.
BUILTIN_TOOLS = (
    "Bash",
    "BashOutput",
    "KillShell",
    "Read",
    "Write",
    "Edit",
    "MultiEdit",
    "Glob",
    "Grep",
    "TodoWrite",
)

_HEX_COLOR = re.compile(r"#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})")
# An unquoted ``color: #60A5FA`` is a YAML comment; quote it so the value survives parsing.
_UNQUOTED_HEX_LINE = re.compile(r"^(\w+):[ \t]+(#[0-9A-Fa-f]{3,8})[ \t]*$", re.MULTILINE)
_FRONTMATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)

BUILTIN_AGENTS_DIR = Path(__file__).parent / "agents"
DEFAULT_AGENT = "backend-agent"


class DefinitionError(UserError):
    """An agent definition that cannot be used (the message names the file and the field)."""


@dataclass(frozen=True)
class AgentDefinition:
    """One agent: its system prompt (``prompt``) and the frontmatter fields that configure it.

    ``tools=None`` means every available tool; ``model=None`` means "inherit" (the model chosen
    on the command line, in settings, or the default).
    """

    name: str
    description: str
    prompt: str
    tools: tuple[str, ...] | None = None
    disallowed_tools: tuple[str, ...] = ()
    model: str | None = None
    permission_mode: str | None = None
    color: str | None = None  # "#RRGGBB"
    max_turns: int | None = None
    mcp_servers: tuple[str | dict[str, Any], ...] = ()
    hooks: dict[str, Any] | None = None  # Claude Code hooks format; validated by permissions
    source: Source = "file"
    path: Path | None = None

    @property
    def origin(self) -> str:
        """Where the definition came from, for messages: its file, or ``--agents``."""
        return str(self.path) if self.path else "--agents"


Warn = Callable[[str], None]


def error_to_stderr(message: str) -> None:
    """Where discovery reports files it had to skip: one line on stderr."""
    print(f"backend-agent: error: {message}", file=sys.stderr)


@dataclass
class _FieldReader:
    """Validates frontmatter fields one by one, reporting problems against one origin."""

    origin: str
    warn: Warn

    def warning(self, name: str, message: str) -> None:
        self.warn(f"{self.origin}: field '{name}': {message}")

    def required_text(self, fields: Mapping[str, Any], name: str) -> str:
        value = fields.get(name)
        if not isinstance(value, str) or not value.strip():
            raise DefinitionError(f"{self.origin}: missing required field '{name}' in frontmatter")
        return value.strip()

    def tool_list(self, fields: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
        """A ``tools``-style field (a comma-separated string or a list) as names; None for
        "all" (absent, or ``*``). Unknown names are kept, with a warning naming the valid ones."""
        value = fields.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            names = [part.strip() for part in value.split(",")]
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            names = [item.strip() for item in value]
        else:
            self.warning(name, "expected a comma-separated string or a list of tool names; ignored")
            return None
        names = [n for n in names if n]
        if "*" in names:
            return None
        for tool in names:
            if not is_known_tool(tool):
                self.warning(
                    name,
                    f"unknown tool '{tool}'; valid: {', '.join(BUILTIN_TOOLS)}, "
                    "or an MCP tool as mcp__<server>__<tool>",
                )
        return tuple(names)

    def model(self, fields: Mapping[str, Any]) -> str | None:
        value = fields.get("model")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.warning("model", "expected inherit, opus, sonnet, haiku or a model id; ignored")
            return None
        return None if value.strip() == "inherit" else value.strip()

    def permission_mode(self, fields: Mapping[str, Any]) -> str | None:
        value = fields.get("permissionMode")
        if value is None:
            return None
        if value not in PERMISSION_MODES:
            self.warning(
                "permissionMode",
                f"invalid value {value!r}; valid: {', '.join(PERMISSION_MODES)}; ignored",
            )
            return None
        return str(value)

    def color(self, fields: Mapping[str, Any]) -> str | None:
        value = fields.get("color")
        if value is None:
            return None
        hex_value = parse_color(value) if isinstance(value, str) else None
        if hex_value is None:
            self.warning(
                "color",
                f"invalid value {value!r}; valid: {', '.join(NAMED_COLORS)}, "
                "or a hex color such as #60A5FA; ignored",
            )
        return hex_value

    def max_turns(self, fields: Mapping[str, Any]) -> int | None:
        value = fields.get("maxTurns")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.warning(
                "maxTurns", f"invalid value {value!r}; expected a positive integer; ignored"
            )
            return None
        return value

    def mcp_servers(self, fields: Mapping[str, Any]) -> tuple[str | dict[str, Any], ...]:
        value = fields.get("mcpServers")
        if value is None:
            return ()
        if isinstance(value, dict):
            return tuple({name: config} for name, config in value.items())
        if isinstance(value, list) and all(isinstance(item, str | dict) for item in value):
            return tuple(value)
        self.warning(
            "mcpServers", "expected a list of server names or {name: config} entries; ignored"
        )
        return ()

    def hooks(self, fields: Mapping[str, Any]) -> dict[str, Any] | None:
        value = fields.get("hooks")
        if value is None or isinstance(value, dict):
            return value
        self.warning("hooks", "expected a mapping of hook events (PreToolUse: [...]); ignored")
        return None


_KNOWN_FIELDS = {
    "hooks",
    "name",
    "description",
    "tools",
    "disallowedTools",
    "model",
    "permissionMode",
    "color",
    "maxTurns",
    "mcpServers",
}


def is_known_tool(name: str) -> bool:
    """A built-in tool name (optionally with a rule such as ``Bash(git:*)``) or an MCP tool."""
    return name.split("(", 1)[0] in BUILTIN_TOOLS or name.startswith("mcp__")


def parse_color(value: str) -> str | None:
    """``#RRGGBB`` for a color name or hex value (``#RGB`` expanded); None when invalid."""
    text = value.strip()
    if text.lower() in NAMED_COLORS:
        return NAMED_COLORS[text.lower()]
    if _HEX_COLOR.fullmatch(text):
        digits = text[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return "#" + digits.upper()
    return None


def definition_from_fields(
    fields: Mapping[str, Any],
    prompt: str,
    *,
    source: Source,
    path: Path | None = None,
    warn: Warn = warn_to_stderr,
) -> AgentDefinition:
    """Validate frontmatter-style ``fields``: errors for missing name/description, else warnings."""
    reader = _FieldReader(str(path) if path else "--agents", warn)
    name = reader.required_text(fields, "name")
    description = reader.required_text(fields, "description")
    for unknown in sorted(set(fields) - _KNOWN_FIELDS - {"prompt"}):
        reader.warning(unknown, f"unknown field; known fields: {', '.join(sorted(_KNOWN_FIELDS))}")
    return AgentDefinition(
        name=name,
        description=description,
        prompt=prompt,
        tools=reader.tool_list(fields, "tools"),
        disallowed_tools=reader.tool_list(fields, "disallowedTools") or (),
        model=reader.model(fields),
        permission_mode=reader.permission_mode(fields),
        color=reader.color(fields),
        max_turns=reader.max_turns(fields),
        mcp_servers=reader.mcp_servers(fields),
        hooks=reader.hooks(fields),
        source=source,
        path=path,
    )


def split_frontmatter(text: str, origin: str) -> tuple[dict[str, Any], str]:
    """The frontmatter mapping and the body of an agent file."""
    import yaml

    match = _FRONTMATTER.match(text.lstrip("\ufeff"))
    if match is None:
        raise DefinitionError(
            f"{origin}: no frontmatter; an agent file starts with '---', "
            "YAML fields (name, description, ...), then '---' and the prompt"
        )
    raw = _UNQUOTED_HEX_LINE.sub(r'\1: "\2"', match.group(1))
    try:
        fields = yaml.safe_load(raw)
    except yaml.YAMLError:
        fields = _simple_fields(raw)
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise DefinitionError(f"{origin}: the frontmatter must be a mapping of fields")
    body = text.lstrip("\ufeff")[match.end() :]
    return fields, body.strip("\n") + "\n"


def _simple_fields(raw: str) -> dict[str, Any]:
    """Frontmatter as plain ``key: value`` lines, for files YAML rejects (e.g. colons in text).

    Claude Code reads such files, so we do too: continuation lines join the previous value.
    """
    fields: dict[str, Any] = {}
    key: str | None = None
    for line in raw.splitlines():
        head = re.match(r"^([A-Za-z_][\w-]*):(.*)$", line)
        if head:
            key = head.group(1)
            fields[key] = head.group(2).strip().strip("\"'")
        elif key is not None and line.strip():
            fields[key] = f"{fields[key]}\n{line.strip()}".strip()
    return fields


def load_agent_file(
    path: Path, *, source: Source = "file", warn: Warn = warn_to_stderr
) -> AgentDefinition:
    """Parse one agent file; DefinitionError when it cannot be read or lacks name/description."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read agent file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"{path}: not UTF-8 text") from exc
    fields, body = split_frontmatter(text, str(path))
    return definition_from_fields(fields, body, source=source, path=path, warn=warn)


def load_agents_json(text: str, *, warn: Warn = warn_to_stderr) -> list[AgentDefinition]:
    """Definitions from ``--agents``: ``{"name": {"description": ..., "prompt": ..., ...}}``."""
    data = json_object(text, "--agents", DefinitionError)
    if not all(isinstance(v, dict) for v in data.values()):
        raise DefinitionError('--agents: expected {"name": {"description": ..., "prompt": ...}}')
    definitions = []
    for name, fields in data.items():
        prompt = fields.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise DefinitionError(f"--agents: agent {name!r}: missing required field 'prompt'")
        definitions.append(
            definition_from_fields({"name": name, **fields}, prompt, source="cli", warn=warn)
        )
    return definitions


def _load_dir(
    directory: Path, source: Source, warn: Warn, errors: list[str]
) -> Iterable[AgentDefinition]:
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.md")):
        try:
            yield load_agent_file(path, source=source, warn=warn)
        except DefinitionError as exc:
            errors.append(str(exc))


def discover_agents(
    cwd: Path,
    *,
    home: Path | None = None,
    agents_json: str | None = None,
    warn: Warn = warn_to_stderr,
    error: Warn = error_to_stderr,
) -> dict[str, AgentDefinition]:
    """Every agent by name: ``--agents`` over project over user over built-in.

    A file that cannot be used is reported through ``error`` (naming the file) and skipped, so
    one broken file does not stop every run.
    """
    home = Path.home() if home is None else home
    errors: list[str] = []
    found: dict[str, AgentDefinition] = {}
    layers: list[Iterable[AgentDefinition]] = [
        _load_dir(BUILTIN_AGENTS_DIR, "built-in", warn, errors),
        _load_dir(home / ".claude" / "agents", "user", warn, errors),
        _load_dir(cwd / ".claude" / "agents", "project", warn, errors),
    ]
    if agents_json is not None:
        layers.append(load_agents_json(agents_json, warn=warn))
    for layer in layers:
        for definition in layer:
            found[definition.name] = definition
    for problem in errors:
        error(f"{problem}; agent skipped")
    return found


def select_agent(
    cwd: Path,
    *,
    name: str | None = None,
    agent_file: Path | None = None,
    agents_json: str | None = None,
    home: Path | None = None,
    warn: Warn = warn_to_stderr,
) -> AgentDefinition:
    """The agent to run: ``agent_file`` if given, else ``name`` (default: the built-in agent)."""
    if agent_file is not None:
        return load_agent_file(agent_file, warn=warn)
    agents = discover_agents(cwd, home=home, agents_json=agents_json, warn=warn)
    wanted = name or DEFAULT_AGENT
    if wanted not in agents:
        raise DefinitionError(
            f"no agent named {wanted!r}; available: {', '.join(sorted(agents)) or 'none'} "
            "(see `backend-agent agents`)"
        )
    return agents[wanted]
