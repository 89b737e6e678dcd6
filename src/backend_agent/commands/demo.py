"""``backend-agent demo [DIR]``: the whole product in a few seconds, with no API key.

A bundled FastAPI + PostgreSQL service is copied into DIR (default: a new temporary
directory) as a git repository, and the built-in Backend Agent works on it through the real
loop, tools, permissions, sandbox and evidence check, driven by a bundled scripted model: it
adds an endpoint and a migration that drops a column, writes a report that forgets the
migration, and revises it when the evidence check sends it back. In a terminal each edit
waits for your approval (with its diff); with ``-p`` it runs headless.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.errors import UserError

if TYPE_CHECKING:
    from backend_agent.sessions.config import SessionConfig

PROMPT = (
    "Add an endpoint to upload a user's avatar, and drop the users.legacy_name column: "
    "nothing reads it anymore."
)
GIT_IDENTITY = ("-c", "user.name=backend-agent demo", "-c", "user.email=demo@example.invalid")
HEADLESS_ALLOWED = ["Bash(git status:*)"]


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="backend-agent demo",
        description=(
            "Run the built-in Backend Agent on a bundled sample service with a scripted model "
            "(no API key): it adds an endpoint and a migration, reports, and is corrected by "
            "the evidence check. In a terminal you approve each edit; -p runs it headless."
        ),
    )
    parser.add_argument(
        "directory",
        nargs="?",
        type=Path,
        metavar="DIR",
        help="where to put the sample repository (new or empty; default: a temp directory)",
    )
    parser.add_argument(
        "-p", "--print", action="store_true", help="headless: print the result and exit"
    )
    parser.add_argument(
        "--output-format",
        choices=("text", "json", "stream-json"),
        default="text",
        help="with -p, as for backend-agent -p",
    )
    add_debug(parser)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if not args.print and not sys.stdin.isatty():
        raise UserError("the interactive demo needs a terminal; run `backend-agent demo -p`")
    root = prepare_repository(args.directory)
    print(f"backend-agent demo: sample service in {root}", file=sys.stderr)
    with ExitStack() as stack:
        script = stack.enter_context(as_file(files("backend_agent.demo") / "script.yaml"))
        code = _run(root, script, args)
    print(f"backend-agent demo: the repository is kept in {root} (git diff to see the change)")
    return code


def prepare_repository(directory: Path | None) -> Path:
    """The sample service copied into ``directory`` (new or empty) as a git repository."""
    if shutil.which("git") is None:
        raise UserError("the demo needs git on PATH: install git")
    if directory is None:
        root = Path(tempfile.mkdtemp(prefix="backend-agent-demo-"))
    else:
        root = directory.expanduser().resolve()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise UserError(f"{directory}: not an empty directory; give a new or empty one")
    with as_file(files("backend_agent.demo") / "sample") as sample:
        copy_sample(sample, root)
    for command in (
        ("init", "-q", "-b", "main"),
        ("add", "-A"),
        ("commit", "-q", "-m", "users-service: users API with Alembic migrations"),
    ):
        done = subprocess.run(
            ["git", *GIT_IDENTITY, *command], cwd=root, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise UserError(f"git {command[0]} failed in {root}: {done.stderr.strip()}")
    return root


def copy_sample(sample: Path, root: Path) -> None:
    """Copy the sample service to ``root``, without the bytecode an installer compiled next to
    it (pip compiles every .py file of a wheel, the sample's included)."""
    shutil.copytree(
        sample, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )


def _run(root: Path, script: Path, args: argparse.Namespace) -> int:
    from backend_agent.models.registry import ModelChoice
    from backend_agent.permissions import PermissionOptions
    from backend_agent.sessions.config import SessionConfig

    headless = bool(args.print)
    config = SessionConfig(
        cwd=root,
        model=ModelChoice(f"scripted:{script}"),
        permissions=PermissionOptions(
            mode="acceptEdits" if headless else None,
            allowed_tools=list(HEADLESS_ALLOWED) if headless else [],
        ),
    )
    if headless and args.output_format != "text":
        from backend_agent.ui.headless import HeadlessOptions, run_headless

        return run_headless(config, HeadlessOptions(PROMPT, args.output_format, args.debug))
    return _run_shown(config, ask=not headless)


def _run_shown(config: SessionConfig, *, ask: bool) -> int:
    """The run as the interactive mode shows it; ``ask``: edits and commands wait for the
    user's approval (with the diff), else the headless permissions decide."""
    from rich.console import Console
    from rich.text import Text

    from backend_agent.runtime.results import Terminated
    from backend_agent.sessions.session import Session
    from backend_agent.sessions.signals import terminate_on_signals
    from backend_agent.ui.approval import TerminalApprover
    from backend_agent.ui.render import RunRenderer, evidence_progress

    console = Console(highlight=False)
    console.print(Text(f"> {PROMPT}", style="bold"))
    with terminate_on_signals():
        try:
            approver = TerminalApprover() if ask else None
            with Session.open(config, approver=approver, progress=evidence_progress()) as session:
                renderer = RunRenderer(console, session.definition.name, session.definition.color)
                result = session.prompt(PROMPT, renderer.on_event)
                renderer.finish(result)
                return result.exit_code
        except Terminated as stop:
            return 128 + stop.signum
