"""Gather the evidence for the Backend Agent Report: git, endpoints, migrations, tests, security.

With a base revision the report covers the change from that revision to the working tree
(commits in between plus uncommitted edits); without one it covers the whole repository.
Each section has a public builder (``database_impact``, ``security_findings``, ...) usable on
its own; ``build_report`` runs them all, then any ``SectionBuilder`` it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from backend_agent.analysis import git
from backend_agent.analysis.database.model import Operation
from backend_agent.analysis.endpoints.model import ContractChange, Inventory
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.project import Project, is_skipped
from backend_agent.analysis.report.model import (
    Area,
    ColumnChange,
    ColumnChangeKind,
    DatabaseSection,
    EndpointsSection,
    FileChange,
    MigrationImpact,
    Plan,
    Report,
    Subsection,
    TableChange,
    TableStatus,
    TestFile,
    TestResult,
    TestRunnerInfo,
    TestsSection,
)
from backend_agent.analysis.testsuite import TestRun, is_test_file, run_tests

# (step label, done, total): total is 0 when a step starts and its size is not yet known.
Progress = Callable[[str, int, int], None]

_DATABASE_PATH = re.compile(
    r"\.sql$|(^|/)(migrations?|db/migrate|alembic|prisma)/|schema\.(prisma|rb)$|(^|/)models?(/|\.)"
)
_CONFIG_NAMES = re.compile(
    r"(^|/)(Dockerfile[^/]*|docker-compose[^/]*|Makefile|Procfile|Gemfile(\.lock)?|go\.(mod|sum)|"
    r"package(-lock)?\.json|pnpm-lock\.yaml|yarn\.lock|pyproject\.toml|requirements[^/]*\.txt|"
    r"setup\.(py|cfg)|\.env[^/]*|[^/]*\.(ya?ml|toml|ini|cfg|conf))$"
)


@dataclass
class BuildContext:
    """What a section builder may use: the repository, the change, and the evidence so far."""

    project: Project
    base: str | None
    changed: list[str] | None  # files the change adds or modifies; None: the whole repository
    changed_lines: git.ChangedLines
    inventory: Inventory
    progress: Progress
    added: set[str] = field(default_factory=set)  # files the change adds

    def introduced(self, finding: Finding) -> bool:
        """Whether a finding sits on code the change adds (always, without a base)."""
        return self.base is None or _introduced(finding, self.added, self.changed_lines)


# A builder of an extra subsection (queues, ...): None when it has nothing to say.
SectionBuilder = Callable[[BuildContext], Subsection | None]


def _queues(context: BuildContext) -> Subsection | None:
    from backend_agent.analysis.queues.report import queue_subsection

    return queue_subsection(context)


# The subsections every report has: "Queues & Jobs" under Endpoints/Contracts.
EXTRA_SECTIONS: tuple[SectionBuilder, ...] = (_queues,)


def build_report(
    project: Project,
    base: str | None = None,
    run_tests: bool = False,
    progress: Progress | None = None,
    sections: Sequence[SectionBuilder] = (),
) -> Report:
    """The whole report; ``progress`` hears about each step and the files it works through."""
    tell = progress or (lambda label, done, total: None)
    tell("reading the change", 0, 0)
    plan, changed_lines = _plan(project, base)
    changed = None if base is None else [f.path for f in plan.files if f.status != "deleted"]
    tell("endpoints", 0, 0)
    endpoints, inventory = _endpoints(project, base, tell)
    tell("migrations", 0, 0)
    database = database_impact(project, changed)
    api_files = {e.file for e in endpoints.endpoints + endpoints.removed}
    migration_files = {m.file for m in database.migrations}
    plan.files = [_with_area(f, api_files, migration_files) for f in plan.files]
    paths = project.files() if base is None else (f.path for f in plan.files)
    plan.areas = _count_areas(paths, api_files, migration_files)
    tell("tests", 0, 0)
    tests = _tests(project, plan, base is None, run_tests, tell)
    tell("security", 0, 0)
    added = {f.path for f in plan.files if f.status == "added"}
    context = BuildContext(project, base, changed, changed_lines, inventory, tell, added)
    if base is None:
        security = security_findings(project, None, inventory, tell)
    else:
        security = security_findings(project, changed or [], Inventory(endpoints.added), tell)
        security = [f for f in security if context.introduced(f)]
        database.findings = [f for f in database.findings if context.introduced(f)]
    extra = [s for build in (*EXTRA_SECTIONS, *sections) if (s := build(context)) is not None]
    notes = [str(note) for note in project.notes]
    return Report(str(project.root), plan, endpoints, database, tests, security, extra, notes)


# --- Plan: git ---------------------------------------------------------------------------


def _plan(project: Project, base: str | None) -> tuple[Plan, git.ChangedLines]:
    if not project.is_git:
        return Plan(base, None, None, False), {}
    root = project.root
    head, uncommitted = git.head_commit(root), git.has_uncommitted(root)
    if base is None:
        return Plan(None, None, head, uncommitted), {}
    project.at(base)  # a clear error when the revision does not exist
    lines = git.changed_lines(root, base)
    files = [
        FileChange(c.path, c.status, "source", c.insertions, c.deletions, c.line, c.old_path)
        for c in git.changed_files(root, base, lines)
        if not is_skipped(c.path)
    ]
    commits = git.commits_since(root, base)
    return Plan(base, git.short_commit(root, base), head, uncommitted, commits, files), lines


def _introduced(finding: Finding, added: set[str], changed_lines: git.ChangedLines) -> bool:
    """Whether a finding sits on code the change adds (a new file, or a changed line)."""
    if finding.file in added or finding.rule == "missing-auth":
        return True
    return any(finding.line in lines for lines in changed_lines.get(finding.file, []))


def area_of(path: str, api_files: set[str], migration_files: set[str]) -> Area:
    """Which part of a backend a file belongs to, from the evidence first, then its name."""
    if is_test_file(path):
        return "tests"
    if path in migration_files or _DATABASE_PATH.search(path):
        return "database"
    if path in api_files or PurePosixPath(path).suffix in (".proto", ".graphql", ".gql"):
        return "api"
    if path.endswith((".md", ".rst", ".txt")) or path.startswith("docs/"):
        return "docs" if not _CONFIG_NAMES.search(path) else "config"
    if _CONFIG_NAMES.search(path):
        return "config"
    return "source"


def _with_area(change: FileChange, api_files: set[str], migration_files: set[str]) -> FileChange:
    area = area_of(change.path, api_files, migration_files)
    return FileChange(
        change.path,
        change.status,
        area,
        change.insertions,
        change.deletions,
        change.line,
        change.old_path,
    )


def _count_areas(
    paths: Iterable[str], api_files: set[str], migration_files: set[str]
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in paths:
        area = area_of(path, api_files, migration_files)
        counts[area] = counts.get(area, 0) + 1
    return counts


# --- Endpoints/Contracts -----------------------------------------------------------------


def _endpoints(
    project: Project, base: str | None, tell: Progress
) -> tuple[EndpointsSection, Inventory]:
    from backend_agent.analysis.endpoints.diff import diff_inventories, schema_file_changes
    from backend_agent.analysis.endpoints.inventory import build_inventory

    head = build_inventory(project, tell)
    section = EndpointsSection(head.endpoints, unresolved=head.unresolved)
    if base is None:
        return section, head
    base_project = project.at(base)
    before = build_inventory(base_project, tell)
    before_keys = {e.key for e in before.endpoints}
    head_keys = {e.key for e in head.endpoints}
    section.added = [e for e in head.endpoints if e.key not in before_keys]
    section.removed = [e for e in before.endpoints if e.key not in head_keys]
    changes = diff_inventories(before, head) + schema_file_changes(base_project, project)
    section.changes = sorted(changes, key=_breaking_first)
    return section, head


def _breaking_first(change: ContractChange) -> tuple[int, str, int]:
    order = ("breaking", "possibly-breaking", "non-breaking").index(change.compatibility)
    return (order, change.file, change.line)


# --- Database Impact ---------------------------------------------------------------------


def database_impact(project: Project, paths: Iterable[str] | None = None) -> DatabaseSection:
    """The migrations (all, or those among ``paths``) with their findings and rollback
    procedure, the tables they touch, and ORM auto-sync findings."""
    from backend_agent.analysis.database import analyze_migrations, orm_auto_sync, rollback_steps

    migrations = analyze_migrations(project, paths)
    impacts = [
        MigrationImpact(
            m.tool,
            m.file,
            m.name,
            m.dialect,
            m.has_down,
            [op.as_dict() for op in m.operations],
            sorted(m.findings, key=lambda f: (f.severity.rank, f.line)),
            rollback_steps(m),
        )
        for m in migrations
    ]
    tables = schema_changes((m.file, op) for m in migrations for op in m.operations)
    return DatabaseSection(impacts, tables, orm_auto_sync(project))


_TABLE_STATUS: dict[str, TableStatus] = {
    "create-table": "created",
    "drop-table": "dropped",
    "rename-table": "renamed",
}
_COLUMN_CHANGE: dict[str, ColumnChangeKind] = {
    "add-column": "added",
    "drop-column": "dropped",
    "rename-column": "renamed",
    "alter-column": "altered",
}


def schema_changes(operations: Iterable[tuple[str, Operation]]) -> list[TableChange]:
    """Tables touched by migration operations, with their column changes, in first-seen order."""
    tables: dict[str, TableChange] = {}
    for file, op in operations:
        if not op.table or (op.kind not in _TABLE_STATUS and op.kind not in _COLUMN_CHANGE):
            continue
        entry = tables.setdefault(op.table, TableChange(op.table, "altered", file, op.line))
        if op.kind in _TABLE_STATUS:
            entry.status = _TABLE_STATUS[op.kind]
            entry.new_name = op.new_name
        elif op.column:
            change = _COLUMN_CHANGE[op.kind]
            entry.columns.append(
                ColumnChange(op.column, change, file, op.line, op.new_name, op.type)
            )
    return list(tables.values())


# --- Tests --------------------------------------------------------------------------------


def _tests(project: Project, plan: Plan, whole: bool, run: bool, tell: Progress) -> TestsSection:
    from backend_agent.analysis.stack import detect_stack

    if whole:
        files = [TestFile(p, "added") for p in project.files() if is_test_file(p)]
    else:
        files = [TestFile(f.path, f.status, f.line) for f in plan.files if f.area == "tests"]
    stack = detect_stack(project)
    runners = [TestRunnerInfo(r.name, r.command, r.directory) for r in stack.test_runners]
    section = TestsSection(files, runners)
    if run:
        tell("running tests", 0, len(runners))
        runs = run_tests(project.root, stack, progress=lambda r: tell(f"running {r.name}", 0, 0))
        section.results = [_result(run) for run in runs]
    return section


def _result(run: TestRun) -> TestResult:
    lines = [line for line in run.output_tail.splitlines() if line.strip()]
    return TestResult(
        run.runner,
        run.command,
        run.directory,
        run.exit_code,
        run.timed_out,
        run.duration,
        run.passed,
        run.failed,
        run.skipped,
        lines[-1].strip() if lines else "",
    )


# --- Security -----------------------------------------------------------------------------


def security_findings(
    project: Project,
    paths: list[str] | None = None,
    inventory: Inventory | None = None,
    progress: Progress | None = None,
) -> list[Finding]:
    """Security findings in ``paths`` (default: every file). When one of them creates an
    application, the other files are scanned too: whether the application has rate limiting,
    headers or CSRF protection depends on what they import."""
    from backend_agent.analysis.endpoints.inventory import build_inventory
    from backend_agent.analysis.security.analyzer import collect_findings, scan_files

    tell = progress or (lambda label, done, total: None)
    paths = project.files() if paths is None else paths
    inventory = build_inventory(project) if inventory is None else inventory
    total, done = len(paths), 0

    def advance(_path: str) -> None:
        nonlocal done
        done += 1
        if done % 200 == 0 or done == total:
            tell("security", done, total)

    contexts = scan_files(project, paths, advance)
    if any(ctx.apps for ctx in contexts) and len(paths) < len(project.files()):
        scanned = set(paths)
        rest = [p for p in project.files() if p not in scanned]
        total += len(rest)
        contexts += scan_files(project, rest, advance)
    return collect_findings(contexts, inventory)
