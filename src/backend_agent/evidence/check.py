"""The evidence check: a written report against the evidence of the change it describes.

Checked: every template section is present; each significant evidence item is named in its
section (breaking contract changes, endpoints added or removed, breaking queue and job
changes, destructive or locking migration findings, new high/critical security findings,
changed test files); and nothing the
report claims is contradicted ("none" over a section the evidence fills, tests claimed with no
test file changed, an endpoint the inventory does not have). Prose is never graded: an item
counts as mentioned when one of its anchors appears (``anchors``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from backend_agent.analysis.endpoints.model import ContractChange, Endpoint
from backend_agent.analysis.findings import Severity
from backend_agent.analysis.report import Report
from backend_agent.analysis.report.model import MigrationImpact
from backend_agent.analysis.testsuite import is_test_file
from backend_agent.evidence.anchors import (
    HTTP_METHODS,
    Anchors,
    Route,
    claimed_routes,
    file_names,
    names_word,
    routes_in_message,
)
from backend_agent.evidence.template import ReportTemplate, WrittenReport

Kind = Literal["missing", "contradicted", "unsupported"]

# Migration rules that destroy data or lock tables: the report must name what they touch.
SIGNIFICANT_MIGRATION_RULES = frozenset(
    {
        "drop-table",
        "drop-column",
        "rename-table",
        "rename-column",
        "change-column-type",
        "add-not-null-column",
        "set-not-null",
        "add-index-non-concurrent",
        "drop-index-non-concurrent",
        "add-unique-constraint",
        "add-foreign-key-validating",
        "irreversible-migration",
    }
)
SIGNIFICANT_SEVERITIES = frozenset({Severity.CRITICAL, Severity.HIGH})
ENDPOINT_WORDS = ("endpoint", "contract", "api", "route")
DATABASE_WORDS = ("database", "schema", "migration", "data")
TEST_WORDS = ("test",)
RISK_WORDS = ("risk", "security", "rollback")

_NOTHING = re.compile(r"^(none|n/a|na|nothing|not applicable|no|unchanged)(?![\w/-])", re.I)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])?\s*(?:\[[ xX]?\]\s*)?")
_FILE_TOKEN = re.compile(r"[\w./-]+\.[A-Za-z]{1,4}\b")
# A channel or job a queue change names: "kafka channel orders.created removed",
# "celery job send_mail moved ...", "kafka orders is now orders.v2; ...".
_QUEUE_NAMES = (
    re.compile(r"\b(?:channel|job) ([^\s;,]+)"),
    re.compile(r"([^\s;,]+) is now ([^\s;,]+)"),
)


@dataclass(frozen=True)
class Discrepancy:
    """One way the report and the evidence disagree, where the evidence is (if anywhere)."""

    section: str
    kind: Kind
    item: str
    file: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "kind": self.kind,
            "item": self.item,
            "file": self.file,
            "line": self.line,
        }

    def describe(self) -> str:
        """One line: what, where, and how the report falls short."""
        where = f" (`{self.file}:{self.line}`)" if self.file else ""
        return f"{self.section}: {self.kind}: {self.item}{where}"


@dataclass(frozen=True)
class EvidenceItem:
    """Something the change did that its report must name; ``section`` is where (None: the
    template has no section for it, so anywhere in the report)."""

    section: str | None
    item: str
    anchors: Anchors
    file: str
    line: int


def evidence_items(report: Report, template: ReportTemplate) -> list[EvidenceItem]:
    """The significant items of ``report``, each in the template section it belongs to."""
    endpoints = template.section_for(*ENDPOINT_WORDS)
    database = template.section_for(*DATABASE_WORDS)
    tests = template.section_for(*TEST_WORDS)
    risks = template.section_for(*RISK_WORDS)
    items = _endpoint_items(report, endpoints) + _queue_items(report, endpoints)
    for migration in report.database.migrations:
        items += _migration_items(migration, database)
    for test in report.tests.files:
        if test.status != "deleted":
            anchors = Anchors(words=file_names(test.path))
            items.append(EvidenceItem(tests, f"test file {test.path}", anchors, test.path, 1))
    for finding in report.security:
        if finding.severity in SIGNIFICANT_SEVERITIES:
            routes = tuple(routes_in_message(finding.message))
            words = (finding.rule, *file_names(finding.file))
            text = f"{finding.severity.value} {finding.rule}: {finding.message}"
            items.append(
                EvidenceItem(risks, text, Anchors(routes, words), finding.file, finding.line)
            )
    return items


def _endpoint_items(report: Report, section: str | None) -> list[EvidenceItem]:
    section_data = report.endpoints
    breaking = [c for c in section_data.changes if c.compatibility != "non-breaking"]
    items: list[EvidenceItem] = []
    covered: list[Route] = []
    for endpoint, how in [(e, "removed") for e in section_data.removed] + [
        (e, "added") for e in section_data.added
    ]:
        route = Route(endpoint.method, endpoint.path)
        label = _endpoint_label(endpoint, how, breaking)
        items.append(
            EvidenceItem(section, label, _endpoint_anchors(endpoint), endpoint.file, endpoint.line)
        )
        covered.append(route)
    for change in breaking:
        routes = routes_in_message(change.message)
        if routes and all(any(r.matches(c) for c in covered) for r in routes):
            continue  # already an item: the endpoint it adds or removes
        words = () if routes else file_names(change.file)
        text = f"{change.compatibility} {change.rule}: {change.message}"
        items.append(
            EvidenceItem(section, text, Anchors(tuple(routes), words), change.file, change.line)
        )
    return items


def _queue_items(report: Report, section: str | None) -> list[EvidenceItem]:
    """Breaking queue and job changes, named by their channel or job (``queues``)."""
    items = []
    for subsection in report.subsections:
        if subsection.key != "queues":
            continue
        for change in subsection.data.get("changes", []):
            if change["compatibility"] != "breaking":
                continue
            names = _queue_names(change["message"])
            if change["kind"] == "job":  # app.tasks.send_mail is named send_mail in prose
                names += tuple(re.split(r"[.:#]", name)[-1] for name in names)
            words = names or file_names(change["file"])
            text = f"breaking {change['rule']}: {change['message']}"
            anchors = Anchors(words=words)
            items.append(EvidenceItem(section, text, anchors, change["file"], change["line"]))
    return items


def _queue_names(message: str) -> tuple[str, ...]:
    found = [
        name for pattern in _QUEUE_NAMES for match in pattern.finditer(message)
        for name in match.groups()
    ]  # fmt: skip
    return tuple(dict.fromkeys(found))


def _endpoint_label(endpoint: Endpoint, how: str, breaking: list[ContractChange]) -> str:
    route = f"{endpoint.method} {endpoint.path}"
    flagged = any(
        c.file == endpoint.file and c.line == endpoint.line and c.compatibility == "breaking"
        for c in breaking
    )
    kind = "" if endpoint.kind == "rest" else f"{endpoint.kind} "
    return f"{kind}{route} {how}{' (breaking)' if flagged or how == 'removed' else ''}"


def _endpoint_anchors(endpoint: Endpoint) -> Anchors:
    if endpoint.method in HTTP_METHODS or endpoint.kind == "rest":
        return Anchors(routes=(Route(endpoint.method, endpoint.path),))
    name = endpoint.path.strip("/")
    short = re.split(r"[/.]", name)[-1]
    return Anchors(words=tuple(dict.fromkeys(w for w in (name, short) if w)))


def _migration_items(migration: MigrationImpact, section: str | None) -> list[EvidenceItem]:
    items = []
    for finding in migration.findings:
        if finding.rule not in SIGNIFICANT_MIGRATION_RULES:
            continue
        operation = _operation_at(migration, finding.line)
        table, column = operation.get("table"), operation.get("column")
        if column:
            words: tuple[str, ...] = (str(column), f"{table}.{column}")
            what = f"{table}.{column}"
        elif table:
            words, what = (str(table),), str(table)
        else:
            words, what = file_names(migration.file), migration.file
        text = f"{finding.rule} {what} ({finding.severity.value})"
        items.append(EvidenceItem(section, text, Anchors(words=words), finding.file, finding.line))
    return items


def _operation_at(migration: MigrationImpact, line: int) -> dict[str, Any]:
    for operation in migration.operations:
        if operation.get("line") == line:
            return operation
    return {}


def claims_nothing(text: str) -> bool:
    """Whether a section says there is nothing to report ("None", "N/A", "No changes", ...)
    in its first line; an empty section says nothing either way."""
    for line in text.splitlines():
        body = _BULLET.sub("", line).strip().strip("*_`").strip()
        if body:
            return _NOTHING.match(body) is not None
    return False


def check_report(
    written: WrittenReport, template: ReportTemplate, report: Report
) -> list[Discrepancy]:
    """Every discrepancy between the written report and the evidence, in template order."""
    found: list[Discrepancy] = []
    if not written.found:
        found.append(Discrepancy(template.title, "missing", "the report is missing"))
    else:
        found += [
            Discrepancy(name, "missing", "the section is missing")
            for name in template.sections
            if name not in written.sections
        ]
    whole = "\n".join(written.sections.values())
    for item in evidence_items(report, template):
        text = written.sections.get(item.section, "") if item.section else whole
        if item.anchors.found_in(text):
            continue
        kind: Kind = "contradicted" if text and claims_nothing(text) else "missing"
        where = item.section or template.title
        found.append(Discrepancy(where, kind, item.item, item.file, item.line))
    found += _database_claims(written, template, report)
    found += _test_claims(written, template, report)
    found += _endpoint_claims(written, template, report)
    order = {name: index for index, name in enumerate(template.sections)}
    return sorted(found, key=lambda d: order.get(d.section, -1))


def _database_claims(
    written: WrittenReport, template: ReportTemplate, report: Report
) -> list[Discrepancy]:
    """ "No database changes" while the change adds or edits a migration."""
    section = template.section_for(*DATABASE_WORDS)
    text = written.sections.get(section or "", "")
    if section is None or not claims_nothing(text):
        return []
    for migration in report.database.migrations:
        if any(f.rule in SIGNIFICANT_MIGRATION_RULES for f in migration.findings):
            continue  # already reported as an item
        tables = {str(op["table"]) for op in migration.operations if op.get("table")}
        if any(names_word(text, word) for word in (*tables, *file_names(migration.file))):
            continue
        item = f"migration {migration.file} ({_summary(migration)})"
        return [Discrepancy(section, "contradicted", item, migration.file, 1)]
    return []


def _summary(migration: MigrationImpact) -> str:
    kinds = [str(op.get("kind")) for op in migration.operations]
    if not kinds:
        return "no schema operations read"
    shown = ", ".join(dict.fromkeys(kinds))
    return shown if len(shown) < 80 else shown[:77] + "..."


def _test_claims(
    written: WrittenReport, template: ReportTemplate, report: Report
) -> list[Discrepancy]:
    """Tests claimed while no test file changed (or a named test file that did not)."""
    section = template.section_for(*TEST_WORDS)
    text = written.sections.get(section or "", "")
    if section is None or not text or claims_nothing(text):
        return []
    changed = [t.path for t in report.tests.files if t.status != "deleted"]
    names = {name for path in changed for name in file_names(path)}
    found = []
    for token in dict.fromkeys(_FILE_TOKEN.findall(text)):
        if is_test_file(token) and token not in names and PurePosixPath(token).name not in names:
            item = f"{token}: claimed, but this test file did not change in the session"
            found.append(Discrepancy(section, "unsupported", item))
    if not found and not changed and not report.tests.results:
        item = "tests claimed, but no test file changed in the session and no tests were run"
        found.append(Discrepancy(section, "unsupported", item))
    return found


def _endpoint_claims(
    written: WrittenReport, template: ReportTemplate, report: Report
) -> list[Discrepancy]:
    """Routes the endpoints section names that neither the inventory nor the removed
    endpoints have. Skipped when the inventory is empty (a framework the engine does not
    read would make every claim look unsupported)."""
    section = template.section_for(*ENDPOINT_WORDS)
    inventory = report.endpoints.endpoints
    if section is None or not inventory:
        return []
    known = [Route(e.method, e.path) for e in inventory + report.endpoints.removed]
    found = []
    for claim in dict.fromkeys(claimed_routes(written.sections.get(section, ""))):
        if not any(claim.matches(route) for route in known):
            item = f"{claim}: not in the endpoint inventory"
            found.append(Discrepancy(section, "unsupported", item))
    return found
