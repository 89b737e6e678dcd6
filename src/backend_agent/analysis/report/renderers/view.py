"""What the Markdown and HTML reports show: the report cut down to what a pull request can hold.

Without a base (a whole repository) each list keeps its 20 worst items and says how many more
the JSON or SARIF report has, and counts per rule stand in for the rest; with a base, lists
stop at 200 items. ``full`` shows everything. Both formats render this same view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from backend_agent.analysis.endpoints.model import ContractChange, Endpoint, Unresolved
from backend_agent.analysis.findings import Finding, Severity
from backend_agent.analysis.git import Commit
from backend_agent.analysis.report.model import (
    FileChange,
    MigrationImpact,
    Report,
    Risk,
    Row,
    SectionName,
    Subsection,
    TableChange,
    TestFile,
)

SUMMARY_LIMIT = 20  # items per list in a whole-repository report
SUMMARY_TEXT = 300  # characters of a rollback step shown in a summary (JSON has them whole)
CHANGE_LIMIT = 200  # items per list in the report of a change
OPERATION_LIMIT = 10  # operations and findings per migration in a summary
ROLLBACK_LIMIT = 2  # rollback steps per migration in a summary (the command, the first backup)

T = TypeVar("T")

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE", "MUTATION", "ANY", "*"})
_AUTH_RISK = {"none": 0, "unknown": 1, "optional": 2, "required": 3}
_TABLE_RISK = {"dropped": 0, "renamed": 1, "altered": 2, "created": 3}


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The items shown of a longer list, and how many there are in all."""

    items: list[T]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass(frozen=True)
class RuleCount:
    """How often one rule fired, at its severity (the worst, if it varies)."""

    rule: str
    severity: Severity
    category: str
    count: int


@dataclass(frozen=True)
class FrameworkCount:
    framework: str
    endpoints: int
    by_auth: dict[str, int]


@dataclass(frozen=True)
class MigrationView:
    """One migration; a summary shows counts (operations per kind, findings per rule)."""

    migration: MigrationImpact
    operations: Listing[dict[str, Any]]
    findings: Listing[Finding]
    rollback: Listing[str]
    operation_kinds: list[tuple[str, int]]
    finding_rules: list[RuleCount]


@dataclass(frozen=True)
class SubsectionView:
    subsection: Subsection
    rows: Listing[Row]


@dataclass
class ReportView:
    """The report as the Markdown and HTML templates show it."""

    report: Report
    summary: bool  # a whole-repository report cut to its worst items
    limit: int | None  # items per list
    notes: Listing[str]
    commits: Listing[Commit]
    files: Listing[FileChange]
    changes: Listing[ContractChange]
    endpoints: Listing[Endpoint]  # every endpoint, or (with a base) those added
    removed: Listing[Endpoint]
    unresolved: Listing[Unresolved]
    frameworks: list[FrameworkCount]
    migrations: Listing[MigrationView]
    migration_tools: dict[str, int]
    database_rules: list[RuleCount]
    database_findings: Listing[Finding]
    tables: Listing[TableChange]
    test_files: Listing[TestFile]
    risks: Listing[Risk]
    risk_rules: list[RuleCount]
    subsections: dict[str, list[SubsectionView]] = field(default_factory=dict)

    @property
    def text_limit(self) -> int | None:
        """Characters of a long text (a rollback step) shown; None: all."""
        return SUMMARY_TEXT if self.summary else None

    @property
    def whole(self) -> bool:
        return self.report.plan.base is None

    @property
    def truncated(self) -> bool:
        """Whether some list shows fewer items than it has."""
        listings: list[Listing[Any]] = [
            self.notes, self.commits, self.files, self.changes, self.endpoints, self.removed,
            self.unresolved, self.migrations, self.database_findings, self.tables,
            self.test_files, self.risks,
        ]  # fmt: skip
        listings += [s.rows for views in self.subsections.values() for s in views]
        listings += [m.operations for m in self.migrations.items]
        return any(listing.more for listing in listings)

    def under(self, parent: SectionName) -> list[SubsectionView]:
        return self.subsections.get(parent, [])


def view(report: Report, full: bool = False) -> ReportView:
    """What to show of ``report``: everything when ``full``, else the worst items first."""
    whole = report.plan.base is None
    limit = None if full else SUMMARY_LIMIT if whole else CHANGE_LIMIT
    summary = whole and not full
    endpoints = report.endpoints
    shown = endpoints.endpoints if whole else endpoints.added
    if summary:
        shown = sorted(shown, key=_endpoint_risk)
    migrations = report.database.migrations
    if summary:
        migrations = sorted(migrations, key=_migration_risk)
    op_limit = OPERATION_LIMIT if summary else None
    tables = report.database.schema_changes
    if summary:
        tables = sorted(tables, key=lambda t: _TABLE_RISK[t.status])
    migration_findings = [f for m in report.database.migrations for f in m.findings]
    risks = report.risks
    subsections: dict[str, list[SubsectionView]] = {}
    for sub in report.subsections:
        rows = sorted(sub.rows, key=_row_risk) if summary else sub.rows
        subsections.setdefault(sub.parent, []).append(SubsectionView(sub, _cut(rows, limit)))
    return ReportView(
        report=report,
        summary=summary,
        limit=limit,
        notes=_cut(report.notes, limit),
        commits=_cut(report.plan.commits, limit),
        files=_cut(sorted(report.plan.files, key=lambda f: (f.area, f.path)), limit),
        changes=_cut([c for c in endpoints.changes if c.rule != "endpoint-added"], limit),
        endpoints=_cut(shown, limit),
        removed=_cut(endpoints.removed, limit),
        unresolved=_cut(endpoints.unresolved, limit),
        frameworks=_frameworks(endpoints.endpoints) if summary else [],
        migrations=_cut([_migration(m, op_limit) for m in migrations], limit),
        migration_tools=dict(Counter(m.tool for m in report.database.migrations)),
        database_rules=_rule_counts(migration_findings + report.database.findings, "migration"),
        database_findings=_cut(report.database.findings, limit),
        tables=_cut(tables, limit),
        test_files=_cut(report.tests.files, limit),
        risks=_cut(risks, limit),
        risk_rules=_risk_counts(risks),
        subsections=subsections,
    )


def _cut(items: Sequence[T], limit: int | None) -> Listing[T]:
    return Listing(list(items if limit is None else items[:limit]), len(items))


def _migration(migration: MigrationImpact, limit: int | None) -> MigrationView:
    kinds = Counter(str(op["kind"]) for op in migration.operations)
    return MigrationView(
        migration,
        _cut(migration.operations, limit),
        _cut(migration.findings, limit),
        _cut(migration.rollback, ROLLBACK_LIMIT if limit is not None else None),
        sorted(kinds.items(), key=lambda item: (-item[1], item[0])),
        _rule_counts(migration.findings, "migration"),
    )


def _endpoint_risk(endpoint: Endpoint) -> tuple[int, int, str, str]:
    """Unauthenticated state-changing endpoints first: what a reviewer checks first."""
    write = 0 if endpoint.method.upper() in _WRITES else 1
    return (write, _AUTH_RISK.get(endpoint.auth, 1), endpoint.path, endpoint.method)


def _migration_risk(migration: MigrationImpact) -> tuple[int, int, str]:
    worst = min((f.severity.rank for f in migration.findings), default=len(Severity))
    return (worst, -len(migration.findings), migration.file)


def _row_risk(row: Row) -> tuple[int, str, int]:
    rank = row.severity.rank if row.severity is not None else len(Severity)
    return (rank, row.file, row.line)


def _frameworks(endpoints: Iterable[Endpoint]) -> list[FrameworkCount]:
    totals: Counter[str] = Counter()
    auth: dict[str, Counter[str]] = {}
    for endpoint in endpoints:
        totals[endpoint.framework] += 1
        auth.setdefault(endpoint.framework, Counter())[endpoint.auth] += 1
    return [
        FrameworkCount(name, count, dict(auth[name]))
        for name, count in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    ]


def _rule_counts(findings: Iterable[Finding], category: str) -> list[RuleCount]:
    return _counts(findings, lambda f: (f.rule, f.severity, category))


def _risk_counts(risks: Iterable[Risk]) -> list[RuleCount]:
    return _counts(risks, lambda r: (r.rule, r.severity, r.category))


def _counts(items: Iterable[T], key: Callable[[T], tuple[str, Severity, str]]) -> list[RuleCount]:
    """One line per (category, rule), worst severity first, then the most frequent."""
    counts: Counter[tuple[str, str]] = Counter()
    worst: dict[tuple[str, str], Severity] = {}
    for item in items:
        rule, severity, category = key(item)
        counts[(category, rule)] += 1
        known = worst.get((category, rule))
        if known is None or severity.rank < known.rank:
            worst[(category, rule)] = severity
    lines = [RuleCount(rule, worst[(cat, rule)], cat, n) for (cat, rule), n in counts.items()]
    return sorted(lines, key=lambda c: (c.severity.rank, -c.count, c.category, c.rule))
