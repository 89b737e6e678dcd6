"""Gather the evidence for the Backend Agent Report: git, endpoints, migrations, tests, security.

With a base revision the report covers the change from that revision to the working tree
(commits in between plus uncommitted edits); without one it covers the whole repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

from backend_agent.analysis.database.model import Migration, Operation
from backend_agent.analysis.endpoints.model import ContractChange, Inventory
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.project import SKIPPED_DIRS, Project, git
from backend_agent.analysis.queues.report import queue_section
from backend_agent.analysis.report import (
    Area,
    ColumnChange,
    ColumnChangeKind,
    Commit,
    DatabaseSection,
    EndpointsSection,
    FileChange,
    FileStatus,
    MigrationImpact,
    Plan,
    Report,
    TableChange,
    TableStatus,
    TestFile,
    TestResult,
    TestRunnerInfo,
    TestsSection,
)
from backend_agent.analysis.testsuite import TestRun, is_test_file, run_tests
from backend_agent.errors import UserError

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
_STATUS: dict[str, FileStatus] = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed"}


def build_report(
    project: Project,
    base: str | None = None,
    run_tests: bool = False,
    progress: Progress | None = None,
) -> Report:
    """The whole report; ``progress`` hears about each step and the files it works through."""
    tell = progress or (lambda label, done, total: None)
    tell("reading the change", 0, 0)
    plan, changed_lines = _plan(project, base)
    changed = None if base is None else [f.path for f in plan.files if f.status != "deleted"]
    tell("endpoints", 0, 0)
    endpoints, inventory = _endpoints(project, base, tell)
    tell("migrations", 0, 0)
    database = _database(project, changed)
    api_files = {e.file for e in endpoints.endpoints + endpoints.removed}
    migration_files = {m.file for m in database.migrations}
    plan.files = [_with_area(f, api_files, migration_files) for f in plan.files]
    if base is None:
        plan.areas = _count_areas(project.files(), api_files, migration_files)
    else:
        plan.areas = _count_areas((f.path for f in plan.files), api_files, migration_files)
    tell("tests", 0, 0)
    tests = _tests(project, plan, base is None, run_tests, tell)
    tell("security", 0, 0)
    if base is None:
        security = _security(project, project.files(), inventory, tell)
    else:
        security = _security(project, changed or [], Inventory(endpoints.added), tell)
        added = {f.path for f in plan.files if f.status == "added"}
        security = [f for f in security if _introduced(f, added, changed_lines)]
        database.findings = [f for f in database.findings if _introduced(f, added, changed_lines)]
    tell("queues", 0, 0)
    queues = queue_section(project, base)
    return Report(str(project.root), plan, endpoints, database, tests, security, queues)


# --- Plan: git ---------------------------------------------------------------------------


ChangedLines = dict[str, list[range]]  # path -> the line ranges the change adds or rewrites


def _plan(project: Project, base: str | None) -> tuple[Plan, ChangedLines]:
    if not project.is_git:
        return Plan(base, None, None, False), {}
    head = _head_commit(project)
    uncommitted = bool(git(project.root, "status", "--porcelain", "--", ".").strip())
    if base is None:
        return Plan(None, None, head, uncommitted), {}
    project.at(base)  # a clear error when the revision does not exist
    base_commit = git(project.root, "rev-parse", "--short", f"{base}^{{commit}}").strip()
    log = git(project.root, "log", "--format=%h%x1f%s%x1f%an%x1e", f"{base}..HEAD", "--", ".")
    commits = [
        Commit(*entry.strip().split("\x1f", 2)) for entry in log.split("\x1e") if entry.strip()
    ]
    diff = git(
        project.root,
        "-c",
        "core.quotePath=false",
        "diff",
        "--relative",
        "-M",
        "-U0",
        "--no-color",
        base,
    )
    changed_lines = _changed_lines(diff)
    files = _changed_files(project, base, changed_lines)
    return Plan(base, base_commit, head, uncommitted, commits, files), changed_lines


def _head_commit(project: Project) -> str | None:
    try:
        return git(project.root, "rev-parse", "--short", "HEAD").strip()
    except UserError:  # a repository with no commit yet
        return None


def _changed_files(project: Project, base: str, changed_lines: ChangedLines) -> list[FileChange]:
    """Files differing between ``base`` and the working tree, untracked files included."""
    root = project.root
    statuses = git(root, "diff", "--relative", "-M", "--name-status", "-z", base).split("\0")
    numstat = _numstat(git(root, "diff", "--relative", "-M", "--numstat", "-z", base))
    changes: list[FileChange] = []
    tokens = iter(t for t in statuses if t)
    for code in tokens:
        kind = _STATUS.get(code[0], "modified")
        old_path = next(tokens) if code[0] in "RC" else None
        path = next(tokens) if old_path is not None else next(tokens, "")
        added, deleted = numstat.get(path, (0, 0))
        ranges = changed_lines.get(path)
        line = ranges[0].start if ranges else 1
        changes.append(FileChange(path, kind, "source", added, deleted, line, old_path))
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    for path in filter(None, untracked):
        lines = project.read_bytes(path).count(b"\n") if (root / path).is_file() else 0
        changes.append(FileChange(path, "added", "source", lines, 0, 1))
    return sorted((c for c in changes if not _skipped(c.path)), key=lambda c: c.path)


def _numstat(output: str) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    tokens = iter(output.split("\0"))
    for token in tokens:
        if not token:
            continue
        added, deleted, path = token.split("\t", 2)
        if not path:  # a rename: old and new path follow as their own tokens
            next(tokens)
            path = next(tokens)
        counts[path] = (
            int(added) if added.isdigit() else 0,
            int(deleted) if deleted.isdigit() else 0,
        )
    return counts


def _changed_lines(diff: str) -> ChangedLines:
    """The new-file line ranges of each hunk of a ``git diff -U0``."""
    ranges: ChangedLines = {}
    path = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("@@") and path is not None:
            match = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))?", line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or 1)
                if count:
                    ranges.setdefault(path, []).append(range(start, start + count))
    return ranges


def _introduced(finding: Finding, added: set[str], changed_lines: ChangedLines) -> bool:
    """Whether a finding sits on code the change adds (a new file, or a changed line)."""
    if finding.file in added or finding.rule == "missing-auth":
        return True
    return any(finding.line in lines for lines in changed_lines.get(finding.file, []))


def _skipped(path: str) -> bool:
    return any(part in SKIPPED_DIRS for part in path.split("/")[:-1])


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

_DOWN_COMMAND = {
    "alembic": "alembic downgrade -1",
    "django": "python manage.py migrate <app> <previous migration>",
    "rails": "bin/rails db:migrate:down VERSION=<version>",
    "knex": "npx knex migrate:down",
    "typeorm": "npx typeorm migration:revert",
    "sequelize": "npx sequelize-cli db:migrate:undo",
    "golang-migrate": "migrate -path <dir> -database $DATABASE_URL down 1",
    "goose": "goose -dir <dir> <driver> $DATABASE_URL down",
}
_NO_DOWN = {
    "prisma": "Prisma has no down step: generate a reverse script with `prisma migrate diff` "
    "and mark the migration rolled back with `prisma migrate resolve --rolled-back`.",
    "sql": "Plain SQL has no down step: write and review a reverse script before deploying.",
}
_DESTRUCTIVE = frozenset({"drop-table", "drop-column"})


def _database(project: Project, changed: list[str] | None) -> DatabaseSection:
    from backend_agent.analysis.database import analyze_migrations, orm_auto_sync

    migrations = analyze_migrations(project, changed)
    impacts = [
        MigrationImpact(
            m.tool,
            m.file,
            m.name,
            m.dialect,
            m.has_down,
            [op.as_dict() for op in m.operations],
            sorted(m.findings, key=lambda f: (f.severity.rank, f.line)),
            _rollback(m),
        )
        for m in migrations
    ]
    tables = schema_changes((m.file, op) for m in migrations for op in m.operations)
    return DatabaseSection(impacts, tables, orm_auto_sync(project))


def _rollback(migration: Migration) -> list[str]:
    """The rollback procedure for one migration, in the order to follow it."""
    steps = []
    if migration.has_down:
        command = _DOWN_COMMAND.get(migration.tool, "the tool's down command")
        steps.append(f"Run the down step: `{command}`.")
    else:
        default = f"{migration.file} has no down step: write one before deploying."
        steps.append(_NO_DOWN.get(migration.tool, default))
    for op in migration.operations:
        if op.kind in _DESTRUCTIVE:
            what = f"{op.table}.{op.column}" if op.column else f"{op.table}"
            steps.append(
                f"{op.kind} {what} ({migration.file}:{op.line}) destroys data that no down step "
                "restores: back up the table first and restore from the backup to roll back."
            )
    return steps


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


def _security(
    project: Project, paths: list[str], inventory: Inventory, tell: Progress
) -> list[Finding]:
    """Findings in ``paths``. When one of them creates an application, the other files are
    scanned too: whether the application has rate limiting, headers or CSRF protection
    depends on what they import."""
    from backend_agent.analysis.security.analyzer import collect_findings, scan_files

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
