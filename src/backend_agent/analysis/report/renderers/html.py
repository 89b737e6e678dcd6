"""The report as one self-contained HTML page (templates/report.html), with the schema-change
diagram laid out here: a box per table, as wide as its longest line, in rows that wrap."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from backend_agent.analysis.findings import Severity
from backend_agent.analysis.report.model import AREAS, Report, TableChange
from backend_agent.analysis.report.renderers.templates import environment
from backend_agent.analysis.report.renderers.view import view

# Geometry in CSS pixels; the text is monospace, so a line's width follows its length.
HEADER, ROW, GAP, PADDING = 26, 18, 20, 10
CHAR_WIDTH = {"title": 8.4, "line": 7.6}  # 13px bold / 12px monospace, with some slack
MIN_BOX, MAX_WIDTH = 180, 1100
BOX_LINES = 12  # column lines per table box in a summary
AUTH_LEVELS = ("required", "optional", "none", "unknown")
TABLE_COLOURS = {
    "created": "#3f9142",
    "dropped": "#d64545",
    "renamed": "#de911d",
    "altered": "#2680c2",
}
COLUMN_STYLE = {
    "added": ("+", "#2f8132"),
    "dropped": ("−", "#c23030"),
    "renamed": ("~", "#b36b00"),
    "altered": ("Δ", "#1c5f99"),
}


def render_html(report: Report, full: bool = False) -> str:
    """The page, summarised unless ``full`` (see view.py)."""
    shown = view(report, full)
    counts = Counter(r.severity for r in report.risks)
    plan = report.plan
    return (
        environment()
        .get_template("report.html")
        .render(
            v=shown,
            severity_counts=[(s, counts[s]) for s in Severity if counts.get(s)],
            areas=[(a, plan.areas[a]) for a in AREAS if plan.areas.get(a)],
            auth_levels=AUTH_LEVELS,
            diagram=schema_diagram(shown.tables.items, BOX_LINES if shown.summary else None)
            if shown.tables.items
            else None,
            header=HEADER,
            row=ROW,
        )
    )


@dataclass(frozen=True)
class Line:
    text: str
    colour: str


@dataclass
class Box:
    table: str
    title: str
    colour: str
    lines: list[Line]
    width: int
    x: int = 0
    y: int = 0
    height: int = 0


@dataclass
class Diagram:
    boxes: list[Box] = field(default_factory=list)
    width: int = 0
    height: int = 0


def schema_diagram(tables: Sequence[TableChange], lines: int | None = None) -> Diagram:
    """Boxes placed left to right, wrapping before MAX_WIDTH; a row is as tall as its tallest.
    ``lines`` caps the column lines of a box (the rest counted in a last line)."""
    diagram = Diagram()
    row: list[Box] = []
    top = GAP

    def close_row() -> None:
        nonlocal top
        height = max(b.height for b in row)
        for box in row:
            box.y = top
        top += height + GAP

    x = GAP
    for table in tables:
        box = _box(table, lines)
        if row and x + box.width + GAP > MAX_WIDTH:
            close_row()
            row, x = [], GAP
        box.x = x
        x += box.width + GAP
        row.append(box)
        diagram.boxes.append(box)
        diagram.width = max(diagram.width, x)
    if row:
        close_row()
    diagram.height = top
    return diagram


def _box(table: TableChange, limit: int | None) -> Box:
    title = table.table + (f" → {table.new_name}" if table.new_name else "")
    title += f" ({table.status})"
    lines = [_column_line(c.change, c.column, c.new_name, c.type) for c in table.columns]
    if limit is not None and len(lines) > limit:
        lines = [*lines[:limit], Line(f"… {len(lines) - limit} more", "#616e7c")]
    if not lines:
        lines = [Line(f"table {table.status}", "#616e7c")]
    width = max(
        [len(title) * CHAR_WIDTH["title"]] + [len(line.text) * CHAR_WIDTH["line"] for line in lines]
    )
    box = Box(table.table, title, TABLE_COLOURS[table.status], lines, 0)
    box.width = max(MIN_BOX, round(width) + 2 * PADDING)
    box.height = HEADER + len(lines) * ROW + 8
    return box


def _column_line(change: str, column: str, new_name: str | None, type_: str | None) -> Line:
    mark, colour = COLUMN_STYLE[change]
    label = column + (f" → {new_name}" if new_name else "")
    if type_ and change in ("added", "altered"):
        label += f" {type_}"
    return Line(f"{mark} {label}", colour)
