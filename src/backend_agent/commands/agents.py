"""``backend-agent agents``: the agents that can run here, with source, color, tools and model."""

from __future__ import annotations

from pathlib import Path

from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.errors import UserError


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent agents",
        description=(
            "List the agents that can run: project .claude/agents/*.md over user "
            "~/.claude/agents/*.md over built-in (--agents JSON over all)."
        ),
    )
    parser.add_argument(
        "--cwd", type=Path, default=Path.cwd(), metavar="DIR", help="project directory"
    )
    parser.add_argument("--agents", metavar="JSON", help="extra agents, as for a run")
    add_debug(parser)
    args = parser.parse_args(argv)
    if not args.cwd.is_dir():
        raise UserError(f"--cwd {args.cwd}: not a directory")

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from backend_agent.definitions import discover_agents

    agents = discover_agents(args.cwd.resolve(), agents_json=args.agents)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("agent", "source", "color", "model", "tools"):
        table.add_column(column, no_wrap=column != "tools")
    for definition in sorted(agents.values(), key=lambda d: d.name):
        color = definition.color
        swatch = Text.assemble(("██ ", color), color) if color else Text("-", style="dim")
        table.add_row(
            Text(definition.name, style=f"bold {color}" if color else "bold"),
            "--agents" if definition.source == "cli" else definition.source,
            swatch,
            definition.model or "inherit",
            ", ".join(definition.tools) if definition.tools is not None else "all",
        )
    Console(highlight=False).print(table)
    return 0
