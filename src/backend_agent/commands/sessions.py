"""``backend-agent sessions``: the recorded sessions of this directory (or of all), newest last."""

from __future__ import annotations

import json
from pathlib import Path

from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.errors import UserError


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent sessions",
        description="List recorded sessions: id, last activity, turns, cost and first prompt. "
        "Resume one with `backend-agent -r ID`; continue the latest with `backend-agent -c`. "
        "Transcripts live in ~/.backend-agent/projects/<directory>/<id>.jsonl "
        "($BACKEND_AGENT_HOME); delete a file to delete its session.",
    )
    parser.add_argument("--all", action="store_true", help="sessions of every directory")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--cwd", type=Path, default=Path.cwd(), metavar="DIR", help="project directory"
    )
    add_debug(parser)
    args = parser.parse_args(argv)
    if not args.cwd.is_dir():
        raise UserError(f"--cwd {args.cwd}: not a directory")

    from backend_agent.errors import warn_to_stderr
    from backend_agent.sessions import lookup
    from backend_agent.sessions.store import JsonlFileStore

    if args.all:
        found = lookup.all_summaries(warn_to_stderr)
    else:
        found = lookup.summaries(JsonlFileStore.for_cwd(args.cwd.resolve()))
    if args.format == "json":
        print(json.dumps([summary.to_json() for summary in found], indent=2, ensure_ascii=False))
        return 0
    if not found:
        where = "anywhere" if args.all else f"in {args.cwd.resolve()}"
        print(f"No sessions recorded {where}.")
        return 0

    from rich.console import Console
    from rich.table import Table

    from backend_agent.ui.pickers import local_time, one_line

    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = ["id", "last activity", "turns", "cost", *(["directory"] if args.all else [])]
    for column in [*columns, "first prompt"]:
        table.add_column(column, no_wrap=column != "first prompt")
    for summary in found:
        row = [
            summary.id,
            local_time(summary.last_activity),
            str(summary.turns),
            f"${summary.cost_usd:.4f}",
            *([summary.cwd] if args.all else []),
            one_line(summary.first_prompt),
        ]
        table.add_row(*row)
    Console(highlight=False).print(table)
    return 0
