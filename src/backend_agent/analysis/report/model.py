"""The Backend Agent Report as data: the seed's five sections, every item at a file and line.

``build`` fills it from the repository; ``render`` turns it into Markdown, JSON, SARIF or
HTML. ``as_dict`` is the JSON form documented in docs/report.md (``schema_version``).
Other analyses add their evidence as a ``Subsection`` of one of the sections.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from backend_agent import __version__
from backend_agent.analysis.endpoints.model import ContractChange, Endpoint, Unresolved
from backend_agent.analysis.findings import Finding, Severity
from backend_agent.analysis.git import Commit, FileStatus

SCHEMA_VERSION = 1

Area = Literal["api", "database", "tests", "config", "docs", "source"]
# "breaking-change", "migration", "security", or the key of the subsection a risk comes from.
RiskCategory = str
SectionName = Literal["plan", "endpoints", "database", "tests"]
ColumnChangeKind = Literal["added", "dropped", "renamed", "altered"]
TableStatus = Literal["created", "dropped", "renamed", "altered"]
AREAS: tuple[Area, ...] = ("api", "database", "tests", "config", "docs", "source")


@dataclass(frozen=True)
class FileChange:
    """One file the change touches; ``line`` is its first changed line (1 when unknown)."""

    path: str
    status: FileStatus
    area: Area
    insertions: int
    deletions: int
    line: int = 1
    old_path: str | None = None


@dataclass
class Plan:
    """What changed: the commits between base and HEAD and the files, grouped by area.

    Without a base, ``files`` is empty and ``areas`` counts the whole repository's files.
    """

    base: str | None
    base_commit: str | None
    head_commit: str | None
    uncommitted: bool  # the working tree differs from HEAD and is included
    commits: list[Commit] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    areas: dict[str, int] = field(default_factory=dict)

    @property
    def insertions(self) -> int:
        return sum(f.insertions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)


@dataclass
class EndpointsSection:
    """The inventory at the head; with a base, what was added or removed and how it breaks."""

    endpoints: list[Endpoint] = field(default_factory=list)
    added: list[Endpoint] = field(default_factory=list)
    removed: list[Endpoint] = field(default_factory=list)
    changes: list[ContractChange] = field(default_factory=list)  # breaking first
    unresolved: list[Unresolved] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnChange:
    column: str
    change: ColumnChangeKind
    file: str
    line: int
    new_name: str | None = None
    type: str | None = None


@dataclass
class TableChange:
    """One table a migration touches: the unit of the schema-change diagram."""

    table: str
    status: TableStatus
    file: str
    line: int
    new_name: str | None = None
    columns: list[ColumnChange] = field(default_factory=list)


@dataclass
class MigrationImpact:
    """One migration: what it does, what the rules say, and how to roll it back."""

    tool: str
    file: str
    name: str
    dialect: str
    has_down: bool
    operations: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    rollback: list[str] = field(default_factory=list)


@dataclass
class DatabaseSection:
    migrations: list[MigrationImpact] = field(default_factory=list)
    schema_changes: list[TableChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # outside migrations (ORM auto-sync)


@dataclass(frozen=True)
class TestFile:
    __test__ = False  # not a pytest test class

    path: str
    status: FileStatus
    line: int = 1


@dataclass(frozen=True)
class TestRunnerInfo:
    __test__ = False  # not a pytest test class

    name: str
    command: str
    directory: str


@dataclass(frozen=True)
class TestResult:
    """One runner's outcome when the tests were run (``--run-tests``)."""

    __test__ = False  # not a pytest test class

    runner: str
    command: str
    directory: str
    exit_code: int | None  # None: it timed out
    timed_out: bool
    duration: float  # seconds
    passed: int | None  # None: the runner printed no summary we could read
    failed: int | None
    skipped: int | None
    summary: str  # the last line the runner printed


@dataclass
class TestsSection:
    __test__ = False  # not a pytest test class

    files: list[TestFile] = field(default_factory=list)  # added/changed (all, without a base)
    runners: list[TestRunnerInfo] = field(default_factory=list)
    results: list[TestResult] | None = None  # None: not run


@dataclass(frozen=True)
class Risk:
    """One thing that can go wrong, with what to do about it; sorted worst first."""

    severity: Severity
    category: RiskCategory
    rule: str
    message: str
    file: str
    line: int
    action: str  # the fix, or how to roll back

    def as_finding(self) -> Finding:
        return Finding(self.rule, self.severity, self.message, self.file, self.line, self.action)


@dataclass(frozen=True)
class Row:
    """One item of a subsection: its cells (plain text), where it is, and how bad it is."""

    cells: tuple[str, ...]
    file: str
    line: int
    severity: Severity | None = None  # rows with a severity are shown worst first


@dataclass
class Subsection:
    """Evidence another analysis adds to the report (the hook for new sections).

    It is shown as a table under ``parent`` (e.g. "Queues & Jobs" under Endpoints/Contracts),
    its ``risks`` join Risks & Rollbacks with ``category`` = ``key``, and ``data`` appears in
    the JSON under ``key``. Summarised like the built-in sections: worst rows first.
    """

    key: str  # JSON key and risk category, e.g. "queues"; not one of the report's own keys
    title: str  # e.g. "Queues & Jobs"
    parent: SectionName
    columns: tuple[str, ...]  # one header per cell of a row; the Location column is added
    rows: list[Row] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    empty: str = "None found."


@dataclass
class Report:
    repository: str
    plan: Plan
    endpoints: EndpointsSection
    database: DatabaseSection
    tests: TestsSection
    security: list[Finding]
    subsections: list[Subsection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # inputs that could not be read

    @property
    def risks(self) -> list[Risk]:
        """Breaking contract changes, migration and security findings, and the subsections'
        risks, worst first."""
        risks = [_contract_risk(c) for c in self.endpoints.changes if _risky(c)]
        for migration in self.database.migrations:
            risks += [_finding_risk(f, "migration") for f in migration.findings]
        risks += [_finding_risk(f, "migration") for f in self.database.findings]
        risks += [_finding_risk(f, "security") for f in self.security]
        for subsection in self.subsections:
            risks += subsection.risks
        return sorted(risks, key=lambda r: (r.severity.rank, r.category, r.file, r.line, r.rule))

    def as_dict(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "backend-agent", "version": __version__},
            "repository": self.repository,
            "base": plan.base,
            "base_commit": plan.base_commit,
            "head_commit": plan.head_commit,
            "uncommitted": plan.uncommitted,
            "plan": {
                "commits": [asdict(c) for c in plan.commits],
                "files": [asdict(f) for f in plan.files],
                "areas": plan.areas,
                "insertions": plan.insertions,
                "deletions": plan.deletions,
            },
            "endpoints": {
                "endpoints": [e.as_dict() for e in self.endpoints.endpoints],
                "added": [e.as_dict() for e in self.endpoints.added],
                "removed": [e.as_dict() for e in self.endpoints.removed],
                "changes": [c.as_dict() for c in self.endpoints.changes],
                "unresolved": [u.as_dict() for u in self.endpoints.unresolved],
            },
            "database": {
                "migrations": [_migration_dict(m) for m in self.database.migrations],
                "schema_changes": [asdict(t) for t in self.database.schema_changes],
                "findings": [f.as_dict() for f in self.database.findings],
            },
            "tests": {
                "files": [asdict(t) for t in self.tests.files],
                "runners": [asdict(r) for r in self.tests.runners],
                "results": None
                if self.tests.results is None
                else [asdict(r) for r in self.tests.results],
            },
            "security": {"findings": [f.as_dict() for f in self.security]},
            "risks": [{**asdict(r), "severity": r.severity.value} for r in self.risks],
            "notes": self.notes,
            **{s.key: s.data for s in self.subsections},
        }


def _migration_dict(migration: MigrationImpact) -> dict[str, Any]:
    data = asdict(migration)
    data["findings"] = [f.as_dict() for f in migration.findings]
    return data


def _risky(change: ContractChange) -> bool:
    return change.compatibility != "non-breaking" or "auth-removed" in change.rule


def _contract_risk(change: ContractChange) -> Risk:
    if change.compatibility == "non-breaking":  # auth removed: clients keep working, data does not
        action = "Restore the authentication requirement unless the endpoint is meant to be public."
        return Risk(
            Severity.HIGH, "security", change.rule, change.message, change.file, change.line, action
        )
    severity = Severity.HIGH if change.compatibility == "breaking" else Severity.MEDIUM
    action = (
        "Keep the old contract alongside the new one (version the API or deprecate first), "
        "or roll back by reverting the change."
    )
    return Risk(
        severity, "breaking-change", change.rule, change.message, change.file, change.line, action
    )


def _finding_risk(finding: Finding, category: RiskCategory) -> Risk:
    return Risk(
        finding.severity,
        category,
        finding.rule,
        finding.message,
        finding.file,
        finding.line,
        finding.fix,
    )
