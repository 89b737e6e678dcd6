"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, no assets."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape

from backend_agent.analysis.findings import Finding, Severity
from backend_agent.analysis.report import AREAS, Report, TableChange
from backend_agent.analysis.report_render.text import (
    at,
    change_label,
    endpoint_label,
    operation_label,
    plan_summary,
    result_label,
    shown_changes,
)

_CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--ink); background: #f5f7fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 12px; border-bottom: 2px solid var(--line); padding-bottom: 6px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
  margin: 16px 0; }
p.summary { color: var(--muted); margin: 0 0 8px; }
table { width: 100%; border-collapse: collapse; margin: 8px 0 12px; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: #f0f4f8;
  padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
code.rule { white-space: nowrap; }
.badge { display: inline-block; min-width: 68px; text-align: center; padding: 1px 8px;
  border-radius: 10px; font-size: 12px; font-weight: 700; text-transform: uppercase;
  color: #fff; }
.critical { background: #8e1b1b; } .high { background: #d64545; } .medium { background: #de911d; }
.low { background: #2680c2; } .info { background: #7b8794; }
.breaking { background: #d64545; } .possibly-breaking { background: #de911d; }
.non-breaking { background: #3f9142; }
.empty { color: var(--muted); font-style: italic; }
.counts .badge { margin-right: 6px; }
ol.rollback { margin: 4px 0 12px 20px; padding: 0; }
svg text { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
svg text.title { font: 600 13px system-ui, sans-serif; fill: #fff; }
"""

_BOX_WIDTH, _HEADER, _ROW, _GAP, _PER_ROW = 300, 26, 18, 20, 3
_TABLE_COLOURS = {
    "created": "#3f9142",
    "dropped": "#d64545",
    "renamed": "#de911d",
    "altered": "#2680c2",
}
_COLUMN_STYLE = {
    "added": ("+", "#2f8132"),
    "dropped": ("−", "#c23030"),
    "renamed": ("~", "#b36b00"),
    "altered": ("Δ", "#1c5f99"),
}


def render_html(report: Report) -> str:
    body = "\n".join(
        [
            "<h1>Backend Agent Report</h1>",
            _counts(report),
            _section("plan", "Plan", _plan(report)),
            _section("endpoints", "Endpoints/Contracts", _endpoints(report)),
            _section("database", "Database Impact", _database(report)),
            _section("tests", "Tests", _tests(report)),
            _section("risks", "Risks &amp; Rollbacks", _risks(report)),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Backend Agent Report</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _summary(report: Report) -> str:
    plan = report.plan
    total = len(plan.files) if plan.base else sum(plan.areas.values())
    return plan_summary(plan, total)


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}">\n<h2>{title}</h2>\n{content}\n</section>'


def _badge(label: str, css: str) -> str:
    return f'<span class="badge {escape(css)}">{escape(label)}</span>'


def _severity(severity: Severity) -> str:
    return _badge(severity.value, severity.value)


def _rule(rule: str) -> str:
    return f'<code class="rule">{escape(rule)}</code>'


def _prose(text: str) -> str:
    """Escaped text whose `backquoted` parts become code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _loc(file: str, line: int) -> str:
    return f"<code>{escape(at(file, line))}</code>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    """Rows are already-escaped HTML cells; ``empty`` is shown when there are none."""
    body = "\n".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _counts(report: Report) -> str:
    counts = Counter(r.severity for r in report.risks)
    badges = [_badge(f"{counts[s]} {s.value}", s.value) for s in Severity if counts.get(s, 0)] or [
        '<span class="empty">No risks found.</span>'
    ]
    return f'<p class="counts">{"".join(badges)}</p>'


def _plan(report: Report) -> str:
    plan = report.plan
    summary = f'<p class="summary">{escape(_summary(report))}</p>'
    if plan.base is None:
        areas = ((escape(a), str(plan.areas[a])) for a in AREAS if plan.areas.get(a))
        return f"{summary}\n{_table(('Area', 'Files'), areas, 'No files.')}"
    commits = _table(
        ("Commit", "Subject", "Author"),
        (
            (f"<code>{escape(c.sha)}</code>", escape(c.subject), escape(c.author))
            for c in plan.commits
        ),
        "No commits between the base and HEAD: uncommitted changes only.",
    )
    files = _table(
        ("Area", "Status", "File", "+", "−"),
        (
            (
                escape(f.area),
                escape(f.status),
                _loc(f.path, f.line),
                str(f.insertions),
                str(f.deletions),
            )
            for f in sorted(plan.files, key=lambda f: (f.area, f.path))
        ),
        "No files changed.",
    )
    return f"{summary}\n{commits}\n{files}"


def _endpoints(report: Report) -> str:
    section = report.endpoints
    parts = [
        _table(
            ("Compatibility", "Rule", "Change", "Location"),
            (
                (
                    _badge(change_label(c), c.compatibility),
                    _rule(c.rule),
                    escape(c.message),
                    _loc(c.file, c.line),
                )
                for c in shown_changes(section)
            ),
            "No contract changes." if report.plan.base else "No base revision to compare with.",
        )
    ]
    shown = section.endpoints if report.plan.base is None else section.added
    title = "Endpoints" if report.plan.base is None else "Added endpoints"
    parts.append(f"<h3>{title}</h3>")
    parts.append(
        _table(
            ("Endpoint", "Auth", "Framework", "Handler", "Location"),
            (
                (
                    f"<code>{escape(endpoint_label(e))}</code>",
                    escape(e.auth),
                    escape(e.framework),
                    escape(e.handler),
                    _loc(e.file, e.line),
                )
                for e in shown
            ),
            "None.",
        )
    )
    if section.removed:
        parts.append("<h3>Removed endpoints</h3>")
        rows = (
            (f"<code>{escape(endpoint_label(e))}</code>", _loc(e.file, e.line))
            for e in section.removed
        )
        parts.append(_table(("Endpoint", "Was at (base)"), rows, "None."))
    queues = report.queues
    if queues is not None:
        parts.append(f"<h3>{escape(queues.title)}</h3>")
        ranked = sorted(queues.rows, key=lambda r: r.severity.rank if r.severity else 9)
        cells = ((*(escape(c) for c in row.cells), _loc(row.file, row.line)) for row in ranked)
        parts.append(_table((*queues.columns, "Location"), cells, queues.empty))
    return "\n".join(parts)


def _database(report: Report) -> str:
    database = report.database
    parts = []
    if database.schema_changes:
        parts.append(schema_diagram(database.schema_changes))
    for migration in database.migrations:
        down = "has a down step" if migration.has_down else "no down step"
        parts.append(
            f"<h3><code>{escape(migration.file)}</code> · {escape(migration.tool)} · "
            f"{escape(migration.dialect)} · {down}</h3>"
        )
        parts.append(
            _table(
                ("Operation", "Location"),
                (
                    (escape(operation_label(op)), _loc(migration.file, int(op["line"])))
                    for op in migration.operations
                ),
                "No schema operations.",
            )
        )
        parts.append(_findings_table(migration.findings, "No findings."))
        steps = "".join(f"<li>{_prose(step)}</li>" for step in migration.rollback)
        parts.append(f'<p>Rollback procedure:</p>\n<ol class="rollback">{steps}</ol>')
    if database.findings:
        parts.append(_findings_table(database.findings, ""))
    if not parts:
        where = "in the repository" if report.plan.base is None else "in this change"
        parts.append(f'<p class="empty">No migrations {where}.</p>')
    return "\n".join(parts)


def _findings_table(findings: Sequence[Finding], empty: str) -> str:
    return _table(
        ("Severity", "Rule", "Finding", "Location", "Rollback / fix"),
        (
            (
                _severity(f.severity),
                _rule(f.rule),
                escape(f.message),
                _loc(f.file, f.line),
                _prose(f.fix),
            )
            for f in findings
        ),
        empty,
    )


def _tests(report: Report) -> str:
    tests = report.tests
    files = _table(
        ("Status", "Test file"),
        ((escape(t.status), _loc(t.path, t.line)) for t in tests.files),
        "No test files added or changed." if report.plan.base else "No test files.",
    )
    runners = _table(
        ("Runner", "Command", "Directory"),
        (
            (
                escape(r.name),
                f"<code>{escape(r.command)}</code>",
                f"<code>{escape(r.directory)}</code>",
            )
            for r in tests.runners
        ),
        "No test runner detected.",
    )
    if tests.results is None:
        results = '<p class="empty">Not run (pass --run-tests to run them).</p>'
    else:
        results = _table(
            ("Result", "Summary"),
            ((escape(result_label(r)), escape(r.summary)) for r in tests.results),
            "No runner to run.",
        )
    return f"{files}\n{runners}\n{results}"


def _risks(report: Report) -> str:
    return _table(
        ("Severity", "Category", "Rule", "Risk", "Location", "Fix / rollback"),
        (
            (
                _severity(r.severity),
                escape(r.category),
                _rule(r.rule),
                escape(r.message),
                _loc(r.file, r.line),
                _prose(r.action),
            )
            for r in report.risks
        ),
        "No risks found.",
    )


def schema_diagram(tables: Sequence[TableChange]) -> str:
    """An SVG box per table: its name and status, then one line per column change."""
    heights = [_HEADER + max(len(t.columns), 1) * _ROW + 8 for t in tables]
    rows = [max(heights[r : r + _PER_ROW]) for r in range(0, len(heights), _PER_ROW)]
    tops = [_GAP + sum(h + _GAP for h in rows[:i]) for i in range(len(rows))]
    boxes = [
        _table_box(t, _GAP + (i % _PER_ROW) * (_BOX_WIDTH + _GAP), tops[i // _PER_ROW], heights[i])
        for i, t in enumerate(tables)
    ]
    width = _GAP + min(len(tables), _PER_ROW) * (_BOX_WIDTH + _GAP)
    height = _GAP + sum(h + _GAP for h in rows)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="Schema changes">\n'
        "<title>Schema changes</title>\n" + "\n".join(boxes) + "\n</svg>"
    )


def _table_box(table: TableChange, x: int, y: int, height: int) -> str:
    colour = _TABLE_COLOURS[table.status]
    name = table.table + (f" → {table.new_name}" if table.new_name else "")
    parts = [
        f'<g class="table-box" data-table="{escape(table.table)}">',
        f'<rect x="{x}" y="{y}" width="{_BOX_WIDTH}" height="{height}" rx="6" fill="#fff" '
        f'stroke="{colour}" stroke-width="2"/>',
        f'<rect x="{x}" y="{y}" width="{_BOX_WIDTH}" height="{_HEADER}" rx="6" fill="{colour}"/>',
        f'<text class="title" x="{x + 10}" y="{y + 17}">{escape(_fit(name, 30))} '
        f"({escape(table.status)})</text>",
    ]
    if not table.columns:
        parts.append(
            f'<text x="{x + 10}" y="{y + _HEADER + 14}" fill="#616e7c">'
            f"table {escape(table.status)}</text>"
        )
    for row, column in enumerate(table.columns):
        mark, colour = _COLUMN_STYLE[column.change]
        label = column.column + (f" → {column.new_name}" if column.new_name else "")
        if column.type and column.change in ("added", "altered"):
            label += f" {column.type}"
        parts.append(
            f'<text x="{x + 10}" y="{y + _HEADER + 14 + row * _ROW}" fill="{colour}">'
            f"{mark} {escape(_fit(label, 36))}</text>"
        )
    parts.append("</g>")
    return "\n".join(parts)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
