"""``backend-agent [options] [prompt]``: run an agent, headless with ``-p`` or interactively.

Only argparse is imported here, so ``--help`` stays fast; the runtime loads after parsing.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.cli import SUBCOMMANDS
from backend_agent.commands.arguments import CommandParser, add_debug, positive_float, positive_int
from backend_agent.definitions import PERMISSION_MODES
from backend_agent.errors import UserError

if TYPE_CHECKING:
    from backend_agent.sessions.config import SessionConfig
    from backend_agent.ui.headless import HeadlessOptions

# A tool list entry: a name, optionally with a rule in parentheses that may contain spaces.
_TOOL_ENTRY = re.compile(r"[^\s,()]+(?:\([^)]*\))?")


def build_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {name:<11} {text}" for name, text in SUBCOMMANDS.items())
    parser = CommandParser(
        prog="backend-agent",
        description=(  # wrapped by hand: the raw formatter keeps the epilog's layout
            "Run a backend development agent (the built-in backend-agent, or any\n"
            "Claude-Code-format agent file) with Anthropic, OpenAI or an OpenAI-compatible\n"
            "model. Without -p it opens an interactive prompt. Quick look, no API key:\n"
            "backend-agent demo"
        ),
        epilog=(
            f"subcommands (backend-agent <subcommand> --help):\n{commands}\n\n"
            "examples:\n"
            '  backend-agent -p "add input validation to POST /users"\n'
            "  git diff | backend-agent -p --output-format json\n"
            "  backend-agent --agent-file ./my-agent.md --model openai:gpt-5\n"
            '  backend-agent -c -p "now add a test for it"     # continue the latest session\n'
            "  backend-agent rewind --to 2                      # undo from the 2nd prompt on"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "prompt", nargs="?", help="the prompt (with -p: read from stdin if omitted)"
    )
    parser.add_argument("-V", "--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "-p",
        "--print",
        action="store_true",
        help="headless: run the prompt, print the result, exit",
    )
    parser.add_argument(
        "--output-format",
        choices=("text", "json", "stream-json"),
        default="text",
        help="with -p: the final text, one JSON result, or one JSON object per line as it runs",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="accepted for compatibility with claude (stream-json output is always complete)",
    )
    group = parser.add_argument_group("agent")
    group.add_argument(
        "--agent", metavar="NAME", help="the agent to run by name (default: backend-agent)"
    )
    group.add_argument(
        "--agent-file", metavar="FILE", type=Path, help="run the agent defined in this .md file"
    )
    group.add_argument(
        "--agents", metavar="JSON", help='extra agents: {"name": {"description", "prompt", ...}}'
    )
    group.add_argument(
        "--cwd", metavar="DIR", type=Path, help="working directory of the run (default: .)"
    )
    group.add_argument(
        "--system-prompt", metavar="TEXT", help="replace the agent's prompt with this text"
    )
    group.add_argument(
        "--append-system-prompt", metavar="TEXT", help="append this text to the system prompt"
    )
    group = parser.add_argument_group("sessions (see docs/sessions.md)")
    group.add_argument(
        "-c",
        "--continue",
        dest="continue_latest",
        action="store_true",
        help="continue the latest session of this directory",
    )
    group.add_argument(
        "-r",
        "--resume",
        metavar="ID",
        nargs="?",
        const="",
        help="resume a session by id (or unique id prefix); without an id, pick one (interactive)",
    )
    group.add_argument(
        "--fork-session",
        action="store_true",
        help="with --continue/--resume: continue in a new session, leaving the old one as it was",
    )
    group.add_argument("--session-id", metavar="UUID", help="the id of the new session")
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        metavar="MODEL",
        help="opus|sonnet|haiku, a claude-... id, openai:<id>, anthropic:<id>, scripted:<file> "
        "(default: the agent's model, then $BACKEND_AGENT_MODEL, then the model key of "
        ".claude/settings*.json files, then sonnet)",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL (e.g. an OpenAI-compatible server such as Ollama)",
    )
    group.add_argument(
        "--max-output-tokens",
        type=positive_int,
        metavar="N",
        help="output tokens per model request (default: $BACKEND_AGENT_MAX_OUTPUT_TOKENS, "
        "settings maxOutputTokens, else the model's; local servers: a quarter of their context)",
    )
    group = parser.add_argument_group("limits")
    group.add_argument(
        "--max-turns", type=positive_int, metavar="N", help="stop after this many model turns"
    )
    group.add_argument(
        "--max-budget-usd",
        type=positive_float,
        metavar="USD",
        help="stop once the run has cost this much (in US dollars)",
    )
    group.add_argument(
        "--compact-threshold",
        metavar="SHARE",
        help="compact the conversation when a request would pass this share of the context "
        "window minus the output reserve: 80%% (default), 0.6, or off (see docs/context.md)",
    )
    group = parser.add_argument_group("tools and permissions")
    group.add_argument(
        "--permission-mode",
        choices=PERMISSION_MODES,
        help="default: reads run, edits and shell commands ask; acceptEdits: edits in the "
        "working directories run; plan: read-only; bypassPermissions: everything runs; "
        "dontAsk: whatever would ask is refused (default: the agent's, then settings "
        "defaultMode, then default)",
    )
    tools_help = "comma- or space-separated, or several arguments (as with claude)"
    group.add_argument(
        "--tools",
        metavar="LIST",
        action="extend",
        nargs="+",
        help=f'the only tools available ("" for none, "default" for all); {tools_help}',
    )
    group.add_argument(
        "--allowedTools",
        "--allowed-tools",
        dest="allowed_tools",
        metavar="LIST",
        action="extend",
        nargs="+",
        default=[],
        help=f'tools or rules allowed without asking, e.g. "Bash(git diff:*) Edit"; {tools_help}',
    )
    group.add_argument(
        "--disallowedTools",
        "--disallowed-tools",
        dest="disallowed_tools",
        metavar="LIST",
        action="extend",
        nargs="+",
        default=[],
        help=f'tools removed, or rules denied, e.g. Write or "Bash(rm:*)"; {tools_help}',
    )
    group.add_argument(
        "--settings",
        metavar="FILE|JSON",
        action="append",
        default=[],
        help="settings file or JSON; repeatable",
    )
    group.add_argument(
        "--add-dir",
        metavar="DIR",
        action="append",
        default=[],
        type=Path,
        help="another directory the agent may access; repeatable",
    )
    group.add_argument(
        "--sandbox",
        choices=("auto", "required", "off"),
        help="the OS sandbox of shell commands (bubblewrap, else Landlock): auto (default; "
        "where neither can run, warn before the first command and run unsandboxed), required "
        "(exit before calling the model when none can run), off (see docs/permissions.md)",
    )
    group.add_argument(
        "--sandbox-network",
        action="store_true",
        default=None,
        help="let sandboxed shell commands use the network (off by default)",
    )
    group = parser.add_argument_group("report")
    group.add_argument(
        "--evidence-check",
        choices=("off", "warn", "revise"),
        help="check the final report against the code when the agent's prompt has a report "
        "template: revise (default: one corrective message, then note what is left), warn "
        "(only note it), off; see docs/evidence-check.md",
    )
    group = parser.add_argument_group("MCP")
    group.add_argument(
        "--mcp-config",
        metavar="FILE|JSON",
        action="append",
        default=[],
        help="MCP servers file or JSON; repeatable",
    )
    group.add_argument(
        "--strict-mcp-config", action="store_true", help="use only the servers of --mcp-config"
    )
    add_debug(parser)
    return parser


def split_tool_list(values: list[str]) -> list[str]:
    """Entries of comma- or space-separated lists; a rule's parentheses may contain spaces:
    ``["Read,Edit", "Bash(git log:*) Grep"]`` -> ``Read, Edit, Bash(git log:*), Grep``."""
    return [entry for value in values for entry in _TOOL_ENTRY.findall(value)]


def config_from_args(args: argparse.Namespace) -> SessionConfig:
    """The session's configuration from parsed arguments, each part for its owner."""
    from backend_agent.evidence.options import EvidenceOptions
    from backend_agent.mcp.startup import McpOptions
    from backend_agent.models.registry import ModelChoice
    from backend_agent.permissions import PermissionOptions
    from backend_agent.runtime.context import ContextOptions, parse_threshold
    from backend_agent.runtime.results import Limits
    from backend_agent.sessions.config import AgentChoice, ResumeChoice, SessionConfig

    tools: list[str] | None = None
    if args.tools is not None:
        tools = split_tool_list(args.tools)
        if "default" in tools:
            tools = None
    return SessionConfig(
        cwd=(args.cwd or Path.cwd()).resolve(),
        agent=AgentChoice(
            name=args.agent,
            file=args.agent_file,
            agents_json=args.agents,
            system_prompt=args.system_prompt,
            append_system_prompt=args.append_system_prompt,
            tools=tools,
        ),
        model=ModelChoice(args.model, args.base_url, args.max_output_tokens),
        permissions=PermissionOptions(
            mode=args.permission_mode,
            allowed_tools=split_tool_list(args.allowed_tools),
            disallowed_tools=split_tool_list(args.disallowed_tools),
            add_dirs=[d.resolve() for d in args.add_dir],
            sandbox=args.sandbox,
            sandbox_network=args.sandbox_network,
        ),
        mcp=McpOptions(args.mcp_config, args.strict_mcp_config),
        limits=Limits(args.max_turns, args.max_budget_usd),
        context=(
            parse_threshold(args.compact_threshold, "--compact-threshold")
            if args.compact_threshold is not None
            else ContextOptions()
        ),
        settings=args.settings,
        evidence=EvidenceOptions(args.evidence_check),
        resume=ResumeChoice(
            latest=args.continue_latest,
            session=args.resume or None,
            fork=args.fork_session,
            new_id=args.session_id,
        ),
    )


def headless_options(
    args: argparse.Namespace, stdin_prompt: str | None = None
) -> HeadlessOptions | None:
    """What headless mode needs, with -p; None without it (interactive mode)."""
    from backend_agent.ui.headless import HeadlessOptions

    if not args.print:
        return None
    prompt = args.prompt if args.prompt is not None else stdin_prompt
    if not prompt or not prompt.strip():
        raise UserError('-p needs a prompt: backend-agent -p "PROMPT", or pipe it on stdin')
    if args.resume == "":
        raise UserError("-p --resume needs a session id (or use --continue for the latest)")
    return HeadlessOptions(prompt, args.output_format, args.debug)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        from backend_agent import __version__

        print(f"backend-agent {__version__}")
        return 0
    stdin_prompt = None
    if args.print and args.prompt is None and not sys.stdin.isatty():
        stdin_prompt = sys.stdin.read()
    headless = headless_options(args, stdin_prompt)
    config = config_from_args(args)
    if headless is not None:
        from backend_agent.ui.headless import run_headless

        return run_headless(config, headless)
    if not sys.stdin.isatty():
        raise UserError('interactive mode needs a terminal; for scripts use -p "PROMPT"')
    from backend_agent.ui.interactive import run_interactive

    return run_interactive(config, first_prompt=args.prompt, pick=args.resume == "")
