"""What the informational commands print: ``/status``, ``/cost``, ``/context``,
``/permissions``, ``/mcp``, ``/agents`` and ``/memory``'s list. Each builds a rich renderable
from the session and changes nothing."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from backend_agent import __version__
from backend_agent.definitions import AgentDefinition
from backend_agent.permissions import PermissionPolicy
from backend_agent.sessions.costs import spend_by_model
from backend_agent.sessions.session import Session
from backend_agent.ui.status import MODE_LABELS
from backend_agent.ui.tables import add_row, columns, two_columns


def status_panel(session: Session) -> RenderableType:
    mode = session.permission_mode
    sandbox = session.sandbox
    rows: list[tuple[str, RenderableType | str]] = [
        ("version", f"backend-agent {__version__}"),
        ("agent", Text(session.definition.name, style=f"bold {session.definition.color or ''}")),
        ("model", session.model.model_id),
        ("directory", str(session.cwd)),
        ("permission mode", f"{mode} ({MODE_LABELS.get(mode, (mode, ''))[0]})"),
        ("sandbox", "none: shell commands are NOT sandboxed" if sandbox == "none" else sandbox),
        ("session", session.id),
        ("transcript", str(session.transcript_path or "(not kept)")),
    ]
    return two_columns(rows)


def cost_panel(session: Session) -> RenderableType:
    spends = spend_by_model(session.history().entries)
    if not spends:
        return Text("No model calls yet in this session.", style="dim")
    numbers = ("turns", "input", "cached", "output", "cost")
    table = columns("model", *numbers, numbers=numbers)
    for spend in spends:
        cost = f"${spend.cost_usd:.4f}"
        if not spend.priced:
            cost = f"{cost} + unknown" if spend.cost_usd else "unknown price"
        add_row(
            table,
            spend.model,
            str(spend.turns),
            f"{spend.input_tokens:,}",
            f"{spend.cache_share:.0%}",
            f"{spend.usage.output_tokens:,}",
            cost,
        )
    total = Text(f"Session total: ${session.total_cost_usd:.4f}", style="bold")
    note = Text(
        "input counts every token read; cached: the share read from the prompt cache",
        style="dim",
    )
    return Group(table, total, note)


CONTEXT_PARTS = (
    ("system prompt", "system", "#60A5FA"),
    ("memory files", "memory", "#A855F7"),
    ("tool definitions", "tools", "#06B6D4"),
    ("messages", "messages", "#22C55E"),
)
BAR_WIDTH = 50


def context_panel(session: Session) -> RenderableType:
    usage = session.context_usage()
    window = usage.window
    title = Text.assemble(
        ("Context ", "bold"),
        (f"{session.model.model_id} · {usage.used:,} of {window:,} tokens ", ""),
        (f"({usage.percent_used:.0f}%)", "bold"),
    )
    bar = Text()
    for _, field, color in CONTEXT_PARTS:
        tokens = getattr(usage, field)
        cells = max(1, round(BAR_WIDTH * tokens / window)) if tokens else 0
        bar.append("█" * cells, style=color)
    bar.append("·" * max(0, BAR_WIDTH - len(bar.plain)), style="dim")
    rows: list[tuple[str, RenderableType | str]] = [
        (label, Text.assemble(("■ ", color), f"{getattr(usage, field):>9,}"))
        for label, field, color in CONTEXT_PARTS
    ]
    rows += [
        ("free", f"  {usage.free:>9,}"),
        ("kept for the answer", f"  {usage.output_reserve:>9,}"),
    ]
    if usage.auto_compact:
        compaction = f"automatic at {usage.threshold:,} tokens; /compact [focus] now"
    else:
        compaction = "automatic compaction is off; /compact [focus] compacts now"
    note = Text(f"Compaction: {compaction}. Token counts are estimates.", style="dim")
    return Group(title, bar, two_columns(rows), note)


def permissions_panel(session: Session) -> RenderableType:
    policy = session.policy
    rows: list[tuple[str, RenderableType | str]] = [("mode", session.permission_mode)]
    header = two_columns(rows)
    if not isinstance(policy, PermissionPolicy):
        return Group(header, Text("(rules are decided by the program's own policy)"))
    table = columns("rule", "kind", "from")
    rules = policy.engine.rules
    for behavior in ("deny", "ask", "allow"):
        for rule in getattr(rules, behavior):
            style = {"deny": "red", "ask": "yellow", "allow": "green"}[behavior]
            add_row(table, str(rule), Text(behavior, style=style), _where(rule.source, session))
    if not table.rows:
        add_row(table, Text("(no rules: the mode decides)", style="dim"), "", "")
    hint = Text(
        "/permissions allow <rule> saves an allow rule to "
        f"{_where(str(policy.local_settings), session)}; /permissions remove <rule> takes one out",
        style="dim",
    )
    return Group(header, table, hint)


def _where(source: str, session: Session) -> str:
    path = Path(source)
    if not path.is_absolute():
        return source
    for base, label in ((session.cwd, "."), (Path.home(), "~")):
        if path.is_relative_to(base):
            return f"{label}/{path.relative_to(base)}"
    return source


def mcp_panel(session: Session) -> RenderableType:
    manager = session.parts.mcp
    if manager is None or not manager.connections:
        return Text("No MCP servers are configured (see `backend-agent mcp --help`).")
    from backend_agent.mcp.names import server_prefix

    table = columns("server", "status", "from", "tools", wrap="tools")
    for name, connection in manager.connections.items():
        prefix = server_prefix(name)
        tools = [t.removeprefix(prefix) for t in session.tools.tool_names if t.startswith(prefix)]
        status = connection.status
        style = {"connected": "green", "failed": "red", "lost": "red"}.get(status, "yellow")
        detail = Text(status, style=style)
        if connection.error:
            detail.append(f": {connection.error}", style="dim")
        add_row(table, name, detail, connection.config.source, ", ".join(tools) or "-")
    hint = Text("/mcp reconnect <server> restarts one", style="dim")
    return Group(table, hint)


def agents_panel(agents: dict[str, AgentDefinition], current: str) -> RenderableType:
    table = columns("", "agent", "from", "model", "description", wrap="description")
    for definition in sorted(agents.values(), key=lambda d: d.name):
        mark = "●" if definition.name == current else ""
        add_row(
            table,
            mark,
            Text(definition.name, style=f"bold {definition.color or ''}"),
            definition.source,
            definition.model or "inherit",
            definition.description,
        )
    hint = Text("/agents <name> switches from the next turn", style="dim")
    return Group(table, hint)


def memory_panel(files: list[tuple[Path, bool]], cwd: Path) -> RenderableType:
    table = Table(box=None, pad_edge=False, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(justify="right")
    table.add_column()
    table.add_column(style="dim")
    for number, (path, exists) in enumerate(files, 1):
        shown = str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)
        add_row(table, f"{number}.", shown, "" if exists else "(new)")
    note = Text(
        "The agent reads these at the start of a session; edits apply from the next one "
        "(or after /clear).",
        style="dim",
    )
    return Group(Text("Memory files", style="bold"), table, note)
