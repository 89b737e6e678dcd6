"""The ``backend-agent`` command: dispatches to a subcommand module, imported only when used.

Each subcommand lives in ``backend_agent.commands.<name>`` and exposes
``main(argv: list[str]) -> int``; everything else (no subcommand) runs the agent.
"""

from __future__ import annotations

import contextlib
import os
import sys
from importlib import import_module

from backend_agent import __version__

# name -> one-line help, shown by `backend-agent --help`
SUBCOMMANDS: dict[str, str] = {
    "demo": "the agent on a bundled sample service with a scripted model: no API key needed",
    "agents": "list the agents that can run (built-in, user, project)",
    "mcp": "list, add and remove MCP servers (.mcp.json); serve the evidence tools over MCP",
    "stack": "detect languages, frameworks, test runners, databases and queues",
    "endpoints": "inventory of REST/GraphQL/gRPC/WebSocket endpoints; contract diff with --base",
    "queues": "message channels, background jobs and schedules; contract diff with --base",
    "report": "the Backend Agent Report for a change, with no model (md/json/sarif/html)",
    "db": "migration findings with rollback advice; read-only live database schema",
    "tests": "find and run the project's tests",
    "sessions": "list the recorded sessions of this directory (or all); resume with -r ID",
    "rewind": "restore files and/or the conversation to before a session's N-th prompt",
    "batch": "run tasks (prompts or reports) over many repositories, locally or on Ray",
    "doctor": "check the sandbox, ripgrep, credentials, MCP servers and session store",
    "init": "write a starting AGENTS.md: stack, test commands, endpoints (as /init)",
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code.

    Called as the process's entry point (no ``argv``), an agent run ends the process itself
    once its output is flushed: the run has closed its transcript and stopped its processes,
    and the interpreter's teardown of thousands of objects would only add time.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    code = _run(args)
    if argv is None and not (args and args[0] in SUBCOMMANDS):
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):  # a closed pipe: nothing more can be written
                stream.flush()
        os._exit(code)
    return code


def _run(args: list[str]) -> int:
    if args and args[0] in ("--version", "-V"):
        print(f"backend-agent {__version__}")
        return 0
    debug = "--debug" in args
    if args and args[0] in SUBCOMMANDS:
        module, rest = f"backend_agent.commands.{args[0]}", args[1:]
    else:
        module, rest = "backend_agent.commands.run", args
    try:
        code: int = import_module(module).main(rest)
        return code
    except KeyboardInterrupt:
        print("backend-agent: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place where any failure becomes one clear line
        return _report_failure(exc, debug)


def _report_failure(exc: Exception, debug: bool) -> int:
    from backend_agent.errors import UserError

    if debug:
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, UserError):
        print(f"backend-agent: error: {exc}", file=sys.stderr)
        return 2
    hint = "" if debug else " (run with --debug for details)"
    print(f"backend-agent: error: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
    return 1
