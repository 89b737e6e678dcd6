"""MCP server configuration in Claude Code's formats: where servers are declared, how their
entries are validated and ``${VAR}``-expanded, and how ``.mcp.json`` files are edited.

Sources, later ones overriding earlier ones with the same server name: the user scope
(``~/.claude.json`` ``mcpServers``), the project (``<project>/.mcp.json``), the local scope
(``~/.claude.json`` ``projects[<project>].mcpServers``), each ``--mcp-config``, and the agent's
own inline ``mcpServers`` entries. ``--strict-mcp-config`` drops the three file scopes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from backend_agent.errors import UserError
from backend_agent.settings import json_object

Transport = Literal["stdio", "http", "sse"]
TRANSPORTS: tuple[Transport, ...] = ("stdio", "http", "sse")
PROJECT_FILE = ".mcp.json"

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class McpConfigError(UserError):
    """A configuration file or entry that cannot be used; the message names where it is."""


class MissingVariable(McpConfigError):
    """A ``${VAR}`` without a default whose variable is not set."""

    def __init__(self, server: str, variable: str) -> None:
        super().__init__(
            f"MCP server '{server}': environment variable {variable} is not set "
            f"(its configuration uses ${{{variable}}}); set it or give a default "
            f"with ${{{variable}:-value}}"
        )
        self.server = server
        self.variable = variable


@dataclass(frozen=True)
class ServerConfig:
    """One MCP server: how to reach it, and where it was declared (``source``)."""

    name: str
    transport: Transport
    source: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    def expanded(self, environ: Mapping[str, str]) -> ServerConfig:
        """The entry with ``${VAR}`` and ``${VAR:-default}`` replaced in command, args, env, url
        and headers; MissingVariable names this server and the first unset variable."""

        def expand(text: str) -> str:
            def substitute(match: re.Match[str]) -> str:
                value = environ.get(match[1])
                if value is not None:
                    return value
                if match[2] is not None:
                    return match[2]
                raise MissingVariable(self.name, match[1])

            return _VARIABLE.sub(substitute, text)

        return replace(
            self,
            command=expand(self.command),
            args=tuple(expand(arg) for arg in self.args),
            env={key: expand(value) for key, value in self.env.items()},
            url=expand(self.url),
            headers={key: expand(value) for key, value in self.headers.items()},
        )

    def entry(self) -> dict[str, Any]:
        """The entry as it is written in ``.mcp.json``."""
        if self.transport == "stdio":
            return {"command": self.command, "args": list(self.args), "env": dict(self.env)}
        entry: dict[str, Any] = {"type": self.transport, "url": self.url}
        if self.headers:
            entry["headers"] = dict(self.headers)
        return entry


def parse_server(name: str, raw: Any, source: str) -> ServerConfig:
    """Validate one ``mcpServers`` entry; McpConfigError names the source and the server."""
    where = f"{source}: MCP server '{name}'"
    if not isinstance(raw, dict):
        raise McpConfigError(f"{where}: expected an object with 'command' or 'url'")
    kind = raw.get("type", "stdio" if "command" in raw else "http")
    if kind == "streamable-http":
        kind = "http"
    if kind not in TRANSPORTS:
        raise McpConfigError(f"{where}: 'type' must be one of {', '.join(TRANSPORTS)}")
    if kind == "stdio":
        command = raw.get("command")
        if not isinstance(command, str) or not command.strip():
            raise McpConfigError(f"{where}: 'command' must be a non-empty string")
        return ServerConfig(
            name,
            "stdio",
            source,
            command=command,
            args=tuple(_string_list(raw.get("args", []), f"{where}: 'args'")),
            env=_string_map(raw.get("env", {}), f"{where}: 'env'"),
        )
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise McpConfigError(f"{where}: 'url' must be a non-empty string")
    headers = _string_map(raw.get("headers", {}), f"{where}: 'headers'")
    return ServerConfig(name, kind, source, url=url, headers=headers)


def parse_servers(data: Any, source: str) -> list[ServerConfig]:
    """The servers of a ``{"mcpServers": {...}}`` document (a missing key means none)."""
    if not isinstance(data, dict):
        raise McpConfigError(f"{source}: expected a JSON object with 'mcpServers'")
    servers = data.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise McpConfigError(f"{source}: 'mcpServers' must be an object of name -> server")
    return [parse_server(name, raw, source) for name, raw in servers.items()]


def read_json_file(path: Path) -> dict[str, Any]:
    """A JSON object from a file; an absent file is empty; malformed is an McpConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise McpConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not raw.strip():
        return {}
    return json_object(raw, str(path), McpConfigError)


def user_config_path(home: Path | None = None) -> Path:
    return (home or Path.home()) / ".claude.json"


def scoped_servers(cwd: Path, home: Path | None = None) -> list[ServerConfig]:
    """Servers of the file scopes in precedence order: user, project, local."""
    project = cwd.resolve()
    user_path = user_config_path(home)
    user_data = read_json_file(user_path)
    servers = parse_servers(user_data, f"{user_path} (user)")
    servers += parse_servers(read_json_file(project / PROJECT_FILE), str(project / PROJECT_FILE))
    projects = user_data.get("projects", {})
    local = None
    if isinstance(projects, dict):  # keyed by the path as the user typed it, or resolved
        local = projects.get(str(cwd.absolute())) or projects.get(str(project))
    if isinstance(local, dict):
        servers += parse_servers(local, f"{user_path} (local, {project})")
    return servers


def cli_servers(values: Iterable[str]) -> list[ServerConfig]:
    """Servers of each ``--mcp-config`` value: a JSON object, or a file holding one."""
    servers: list[ServerConfig] = []
    for value in values:
        if value.lstrip().startswith("{"):
            data = json_object(value, "--mcp-config", McpConfigError)
            servers += parse_servers(data, "--mcp-config")
        else:
            path = Path(value).expanduser()
            if not path.is_file():
                raise McpConfigError(f"--mcp-config {value}: no such file")
            servers += parse_servers(read_json_file(path), str(path))
    return servers


def agent_servers(
    entries: Sequence[str | Mapping[str, Any]],
    configured: Mapping[str, ServerConfig],
    agent: str,
    report: Callable[[str], None],
) -> list[ServerConfig]:
    """An agent's ``mcpServers``: names pick configured servers, objects declare new ones."""
    servers: list[ServerConfig] = []
    for entry in entries:
        if isinstance(entry, str):
            if entry in configured:
                servers.append(configured[entry])
            else:
                report(
                    f"agent '{agent}' lists MCP server '{entry}', which is not configured "
                    f"(add it with: backend-agent mcp add {entry} ...); skipped"
                )
            continue
        for name, raw in entry.items():
            servers.append(parse_server(name, raw, f"agent '{agent}'"))
    return servers


def configured_servers(
    cwd: Path,
    *,
    mcp_configs: Sequence[str] = (),
    strict: bool = False,
    agent: str = "",
    agent_entries: Sequence[str | Mapping[str, Any]] = (),
    report: Callable[[str], None],
    home: Path | None = None,
) -> list[ServerConfig]:
    """Every server one session should start, one per name, the highest-precedence entry."""
    declared = [] if strict else scoped_servers(cwd, home)
    declared += cli_servers(mcp_configs)
    by_name = {server.name: server for server in declared}
    for server in agent_servers(agent_entries, by_name, agent, report):
        by_name[server.name] = server
    return list(by_name.values())


def edit_servers_file(
    path: Path, edit: Callable[[dict[str, Any]], None], *, project: Path | None = None
) -> None:
    """Apply ``edit`` to the ``mcpServers`` object of ``path`` (of ``projects[project]`` when
    given) and write the file back atomically as indented JSON, keeping every other key."""
    data = read_json_file(path)
    holder = data
    if project is not None:
        projects = data.setdefault("projects", {})
        holder = projects.setdefault(str(project), {})
    servers = holder.setdefault("mcpServers", {})
    if not isinstance(servers, dict):
        raise McpConfigError(f"{path}: 'mcpServers' must be an object of name -> server")
    edit(servers)
    _write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    """Write a sibling temp file, then rename it over ``path``: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise McpConfigError(f"{where} must be a list of strings")
    return value


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise McpConfigError(f"{where} must be an object of string values")
    return dict(value)
