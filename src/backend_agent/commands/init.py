"""``backend-agent init``: write a starting AGENTS.md from what the code shows (as ``/init``)."""

from __future__ import annotations

from pathlib import Path

from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.errors import UserError


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent init",
        description="Write AGENTS.md in the project: its stack per component, the commands that "
        "run its tests and its endpoints, read from the code with no model. The agent reads "
        "the file at the start of every session; edit it freely.",
    )
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="project directory")
    parser.add_argument("--force", action="store_true", help="replace an existing AGENTS.md")
    add_debug(parser)
    args = parser.parse_args(argv)
    if not args.cwd.is_dir():
        raise UserError(f"--cwd {args.cwd}: not a directory")

    from backend_agent.agents_md import write_agents_md

    written = write_agents_md(args.cwd.resolve(), force=args.force)
    print(f"Wrote {written}")
    return 0
