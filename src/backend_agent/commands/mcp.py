"""``backend-agent mcp``: list the configured MCP servers (and whether they start), add and
remove servers in ``.mcp.json`` (or the user scope in ``~/.claude.json``), and serve the
evidence tools over stdio (``serve``)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.mcp.config import (
    PROJECT_FILE,
    MissingVariable,
    ServerConfig,
    configured_servers,
    edit_servers_file,
    parse_server,
    read_json_file,
    user_config_path,
)

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
DEFAULT_LIST_TIMEOUT = 15.0


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="backend-agent mcp",
        description="List, add and remove MCP servers (Claude Code's .mcp.json format), or "
        "serve the evidence tools to other MCP clients.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="each server, where it is configured, its status")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_LIST_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for servers to start (default {DEFAULT_LIST_TIMEOUT:g})",
    )
    _add_common(listing)

    add = commands.add_parser(
        "add",
        help="add a server: NAME -- COMMAND ARGS..., NAME --url URL, or --preset PRESET",
        description=(
            "Add a stdio server (backend-agent mcp add NAME [--env K=V] -- COMMAND ARGS...), "
            "an HTTP/SSE server (backend-agent mcp add NAME --url URL [--transport sse] "
            "[--header 'K: V']), or a preset (backend-agent mcp add --preset "
            "filesystem|git|github|brave|puppeteer [NAME])."
        ),
    )
    add.add_argument("name", nargs="?", metavar="NAME", help="the server's name")
    add.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="an environment variable of a stdio server (repeatable; ${VAR} is kept as is)",
    )
    add.add_argument("--url", metavar="URL", help="an HTTP or SSE server's URL")
    add.add_argument("--transport", choices=("http", "sse"), default="http", help="with --url")
    add.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="K:V",
        help="an HTTP header of an --url server (repeatable)",
    )
    add.add_argument("--preset", metavar="PRESET", help="filesystem, git, github, brave, puppeteer")
    add.add_argument(
        "--scope",
        choices=("project", "user"),
        default="project",
        help="project: .mcp.json (default); user: ~/.claude.json, for every project",
    )
    _add_common(add)

    remove = commands.add_parser("remove", help="remove a server")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument(
        "--scope", choices=("project", "user"), help="where to remove it (default: where it is)"
    )
    _add_common(remove)

    serve = commands.add_parser(
        "serve",
        help="serve the evidence tools (endpoints, database_impact, security_scan, "
        "project_facts) over stdio MCP",
        description=(
            "Serve the evidence engine as the stdio MCP server 'backend' for Claude Code, Codex "
            "or any MCP client: claude mcp add backend -- backend-agent mcp serve. Changes are "
            "measured from a git revision (the tools' 'since', HEAD by default)."
        ),
    )
    _add_common(serve)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cwd", type=Path, default=Path("."), metavar="DIR", help="project dir")
    add_debug(parser)


def main(argv: list[str]) -> int:
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1 :]
    args = build_parser().parse_args(argv)
    project = args.cwd.expanduser().resolve()
    if not project.is_dir():
        raise UserError(f"--cwd {args.cwd}: not a directory")
    if args.command == "list":
        return list_servers(project, as_json=args.json, timeout=args.timeout)
    if args.command == "add":
        return add_server(project, args, command)
    if args.command == "serve":
        from backend_agent.evidence.serve import serve_stdio

        serve_stdio(project)
        return 0
    return remove_server(project, args.name, args.scope)


def _scope_file(project: Path, scope: str) -> Path:
    return project / PROJECT_FILE if scope == "project" else user_config_path()


def add_server(project: Path, args: argparse.Namespace, command: list[str]) -> int:
    """Write one entry, validated first, into the scope's file."""
    if args.preset:
        from backend_agent.mcp.presets import preset_entry

        if command or args.url:
            raise UserError("--preset writes the whole entry: give no command and no --url")
        name = args.name or args.preset
        entry = preset_entry(args.preset, project)
    else:
        name = args.name
        if not name:
            raise UserError("mcp add: give a NAME (or --preset PRESET)")
        entry = _entry_from_args(args, command)
    if not _NAME.match(name):
        raise UserError(f"invalid server name {name!r}: use letters, digits, '_', '-' and '.'")
    path = _scope_file(project, args.scope)
    parse_server(name, entry, str(path))

    def insert(servers: dict[str, Any]) -> None:
        if name in servers:
            raise UserError(
                f"{path} already has an MCP server named '{name}'; "
                f"remove it first (backend-agent mcp remove {name}) or choose another name"
            )
        servers[name] = entry

    edit_servers_file(path, insert)
    print(f"Added MCP server '{name}' to {path}")
    return 0


def _entry_from_args(args: argparse.Namespace, command: list[str]) -> dict[str, Any]:
    if args.url and command:
        raise UserError("mcp add: give either --url URL or -- COMMAND ARGS..., not both")
    if args.url:
        if args.env:
            raise UserError("--env is for stdio servers; HTTP servers take --header 'K: V'")
        entry: dict[str, Any] = {"type": args.transport, "url": args.url}
        if args.header:
            entry["headers"] = dict(_pair(h, ":", "--header") for h in args.header)
        return entry
    if not command:
        raise UserError("mcp add: give the server's command after --, or --url URL")
    if args.header:
        raise UserError("--header is for HTTP servers (--url); stdio servers take --env K=V")
    env = dict(_pair(item, "=", "--env") for item in args.env)
    return {"command": command[0], "args": command[1:], "env": env}


def _pair(text: str, separator: str, flag: str) -> tuple[str, str]:
    key, found, value = text.partition(separator)
    if not found or not key.strip():
        raise UserError(f"{flag} {text!r}: expected KEY{separator}VALUE")
    return key.strip(), value.strip() if separator == ":" else value


def remove_server(project: Path, name: str, scope: str | None) -> int:
    scopes = [scope] if scope else ["project", "user"]
    for candidate in scopes:
        path = _scope_file(project, candidate)
        servers = read_json_file(path).get("mcpServers")
        if isinstance(servers, dict) and name in servers:
            edit_servers_file(path, lambda entries: entries.pop(name))
            print(f"Removed MCP server '{name}' from {path}")
            return 0
    where = " or ".join(str(_scope_file(project, s)) for s in scopes)
    raise UserError(f"no MCP server named '{name}' in {where}")


def list_servers(project: Path, *, as_json: bool, timeout: float) -> int:
    """Try to start every configured server (in parallel, bounded by ``timeout``) and show how
    each one did."""
    servers = configured_servers(project, report=warn_to_stderr)
    if not servers:
        if as_json:
            print("[]")
        else:
            print("No MCP servers configured. Add one with: backend-agent mcp add NAME -- COMMAND")
        return 0
    rows = check_servers(project, servers, timeout)
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        status = row["status"]
        if status == "connected":
            status += f" ({row['tools']} tools)"
        else:
            status += f": {row['error']}"
        print(f"{row['name']}: {row['target']} [{row['transport']}] - {status}")
        print(f"    from {row['source']}")
    return 0


def check_servers(
    project: Path, servers: list[ServerConfig], timeout: float
) -> list[dict[str, Any]]:
    """Start the servers in parallel (bounded by ``timeout``); a row per server: its status,
    tool count and error."""
    rows: dict[str, dict[str, Any]] = {}
    runnable: list[ServerConfig] = []
    for server in servers:
        rows[server.name] = {
            "name": server.name,
            "source": server.source,
            "transport": server.transport,
            "target": _target(server),
            "status": "starting",
            "tools": 0,
            "error": "",
        }
        try:
            runnable.append(server.expanded(os.environ))
        except MissingVariable as exc:
            rows[server.name] |= {"status": "failed", "error": str(exc)}
    if runnable:
        from backend_agent.mcp.client import McpManager

        print(f"Checking {len(runnable)} MCP server(s)...", file=sys.stderr)
        manager = McpManager(runnable, cwd=project, startup_timeout=timeout, call_timeout=timeout)
        try:
            manager.start()
            for name, connection in manager.connections.items():
                rows[name] |= {"status": connection.status, "tools": len(connection.tools)}
                if connection.status != "connected":
                    tail = connection.stderr_tail().splitlines()
                    detail = f" (stderr: {tail[-1].strip()})" if tail else ""
                    rows[name]["error"] = connection.error + detail
        finally:
            manager.close()
    return list(rows.values())


def _target(server: ServerConfig) -> str:
    if server.transport == "stdio":
        return " ".join([server.command, *server.args])
    return server.url
