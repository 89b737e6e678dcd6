"""The report as Markdown under the seed's template headings, each item ending in file:line."""

from __future__ import annotations

from backend_agent.analysis.findings import Finding
from backend_agent.analysis.report import Report
from backend_agent.analysis.report_render.text import (
    at,
    change_label,
    endpoint_detail,
    endpoint_label,
    operation_label,
    plan_summary,
    result_label,
    shown_changes,
)

# A whole-repository report lists at most this many endpoints and test files.
LIST_LIMIT = 200


def render_markdown(report: Report) -> str:
    sections = [
        "## Backend Agent Report",
        _section("Plan", _plan(report)),
        _section("Endpoints/Contracts", _endpoints(report)),
        _section("Database Impact", _database(report)),
        _section("Tests", _tests(report)),
        _section("Risks & Rollbacks", _risks(report)),
    ]
    return "\n\n".join(sections) + "\n"


def _section(title: str, items: list[str]) -> str:
    return f"### {title}\n\n" + "\n".join(items)


def _code(text: str) -> str:
    return f"`{text.replace('`', 'ʼ')}`"


def _limited(items: list[str], total: int) -> list[str]:
    if total > LIST_LIMIT:
        return [*items[:LIST_LIMIT], f"- … and {total - LIST_LIMIT} more"]
    return items


def _plan(report: Report) -> list[str]:
    plan = report.plan
    total = len(plan.files) if plan.base else sum(plan.areas.values())
    items = [f"- {plan_summary(plan, total)}"]
    items += [f"- Commit {c.sha}: {c.subject} ({c.author})" for c in plan.commits]
    files = []
    for change in sorted(plan.files, key=lambda f: (f.area, f.path)):
        renamed = f" from {_code(change.old_path)}" if change.old_path else ""
        files.append(
            f"- {change.area}: {change.status}{renamed} {_code(at(change.path, change.line))} "
            f"(+{change.insertions} −{change.deletions})"
        )
    return items + _limited(files, len(files))


def _endpoints(report: Report) -> list[str]:
    section, items = report.endpoints, []
    for change in shown_changes(section):
        items.append(
            f"- **{change_label(change)}** {_code(change.rule)}: {change.message} "
            f"({_code(at(change.file, change.line))})"
        )
    for endpoint in section.added:
        items.append(
            f"- Added {_code(endpoint_label(endpoint))}: {endpoint_detail(endpoint)} "
            f"({_code(at(endpoint.file, endpoint.line))})"
        )
    for endpoint in section.removed:
        items.append(
            f"- Removed {_code(endpoint_label(endpoint))} "
            f"(was {_code(at(endpoint.file, endpoint.line))} at {report.plan.base})"
        )
    if report.plan.base is None:
        listed = [
            f"- {_code(endpoint_label(e))}: {endpoint_detail(e)} ({_code(at(e.file, e.line))})"
            for e in section.endpoints
        ]
        items += _limited(listed, len(listed))
    for route in section.unresolved:
        items.append(
            f"- Unresolved route {_code(route.fragment)}: {route.reason} "
            f"({_code(at(route.file, route.line))})"
        )
    if not items:
        none = (
            "No endpoints found."
            if report.plan.base is None
            else "No endpoint or contract changes."
        )
        items.append(f"- {none}")
    return items + _queues(report)


def _queues(report: Report) -> list[str]:
    """The "Queues & Jobs" part: channels and jobs, or their changes with a base."""
    section = report.queues
    if section is None:
        return []
    rows = [
        f"  - {' · '.join(c for c in row.cells if c)} ({_code(at(row.file, row.line))})"
        for row in sorted(section.rows, key=lambda r: r.severity.rank if r.severity else 9)
    ]
    header = (
        f"- **{section.title}** ({len(rows)}):" if rows else f"- {section.title}: {section.empty}"
    )
    return [header, *_limited(rows, len(rows))]


def _database(report: Report) -> list[str]:
    items = []
    for migration in report.database.migrations:
        operations = "; ".join(
            f"{operation_label(op)} (line {op['line']})" for op in migration.operations
        )
        down = "yes" if migration.has_down else "no"
        items.append(
            f"- Migration {_code(at(migration.file, 1))} ({migration.tool}, {migration.dialect}, "
            f"down step: {down}): {operations or 'no schema operations'}"
        )
        items += [_finding("  - ", finding) for finding in migration.findings]
        items += [f"  - Rollback: {step}" for step in migration.rollback]
    items += [_finding("- ", finding) for finding in report.database.findings]
    for table in report.database.schema_changes:
        columns = ", ".join(
            f"{c.change} {c.column}" + (f" → {c.new_name}" if c.new_name else "")
            for c in table.columns
        )
        renamed = f" → {table.new_name}" if table.new_name else ""
        items.append(
            f"- Table {_code(table.table)}{renamed}: {table.status}"
            + (f" ({columns})" if columns else "")
            + f" ({_code(at(table.file, table.line))})"
        )
    if not items:
        where = "in the repository" if report.plan.base is None else "in this change"
        items.append(f"- No migrations {where}.")
    return items


def _finding(bullet: str, finding: Finding) -> str:
    return (
        f"{bullet}**{finding.severity.value.upper()}** {_code(finding.rule)}: {finding.message} "
        f"({_code(at(finding.file, finding.line))})"
    )


def _tests(report: Report) -> list[str]:
    tests = report.tests
    listed = [f"- {t.status.capitalize()} {_code(at(t.path, t.line))}" for t in tests.files]
    items = _limited(listed, len(listed))
    if not tests.files:
        items.append(
            "- No test files added or changed." if report.plan.base else "- No test files."
        )
    items += [
        f"- Runner {r.name}: {_code(r.command)} (in {_code(r.directory)})" for r in tests.runners
    ]
    if tests.results is None:
        items.append("- Not run (pass --run-tests to run them).")
    else:
        items += [f"- Result {result_label(r)}: {r.summary}" for r in tests.results]
    return items


def _risks(report: Report) -> list[str]:
    items = []
    for risk in report.risks:
        verb = "Fix" if risk.category == "security" else "Rollback"
        action = f" {verb}: {risk.action}" if risk.action else ""
        items.append(
            f"- **{risk.severity.value.upper()}** [{risk.category}] {_code(risk.rule)}: "
            f"{risk.message} ({_code(at(risk.file, risk.line))}).{action}"
        )
    return items or ["- No risks found."]
