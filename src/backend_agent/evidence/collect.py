"""The evidence of a change, as the engine's report of it: endpoints added, removed or changed
(breaking first), queue and job changes, the migrations it adds or edits with their findings,
the test files it touches (and test runs seen in the session), and the security findings it
introduces.

Only what changed is scanned: both inventories come from the per-blob caches, migrations and
security rules run on the changed files alone.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from backend_agent.analysis.endpoints.diff import contract_changes
from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.endpoints.model import ContractChange, Inventory
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.project import Project
from backend_agent.analysis.report import Report, database_impact, security_findings
from backend_agent.analysis.report.build import area_of
from backend_agent.analysis.report.model import (
    EndpointsSection,
    FileChange,
    Plan,
    Subsection,
    TestFile,
    TestResult,
    TestRunnerInfo,
    TestsSection,
)
from backend_agent.analysis.stack import detect_stack
from backend_agent.analysis.testsuite import is_test_file
from backend_agent.evidence.change import Change
from backend_agent.evidence.source import Progress

_MAX_DIFF_BYTES = 2_000_000  # larger files count as wholly rewritten, without a line diff


def collect_evidence(
    change: Change,
    *,
    test_results: list[TestResult] | None = None,
    runners: list[TestRunnerInfo] | None = None,
    progress: Progress | None = None,
) -> Report:
    """The engine's report of ``change``; ``test_results`` are test runs seen in the session
    (None: no tests were run); ``runners`` the project's test runners when already known
    (``test_runners``)."""
    tell = progress or _quiet
    after, before = change.after, change.before
    tell("endpoints", 0, 0)
    endpoints = _endpoints(change, tell)
    tell("queues", 0, 0)
    queues = _queues(change)
    tell("migrations", 0, 0)
    database = database_impact(after, change.present)
    changed = set(change.paths)
    database.findings = [f for f in database.findings if f.file in changed]
    tell("security", 0, 0)
    security = _introduced(
        security_findings(after, change.present, Inventory(endpoints.added), tell),
        security_findings(before, _existing_before(change), Inventory(), tell),
    )
    tell("tests", 0, 0)
    api_files = {e.file for e in endpoints.endpoints + endpoints.removed}
    migration_files = {m.file for m in database.migrations}
    files = [_file_change(change, path, api_files, migration_files) for path in change.paths]
    plan = Plan(change.base, None, _head(after), bool(files), [], files, _areas(files))
    if runners is None:
        runners = test_runners(after)
    tests = TestsSection(
        [TestFile(f.path, f.status, f.line) for f in files if is_test_file(f.path)],
        runners,
        test_results,
    )
    notes = [str(note) for note in after.notes]
    subsections = [queues] if queues is not None else []
    return Report(str(after.root), plan, endpoints, database, tests, security, subsections, notes)


def test_runners(project: Project) -> list[TestRunnerInfo]:
    """The project's test runners and their commands (reads every manifest: keep it)."""
    return [
        TestRunnerInfo(r.name, r.command, r.directory) for r in detect_stack(project).test_runners
    ]


def _quiet(step: str, done: int, total: int) -> None:
    """The progress listener used when the caller gives none."""


def _endpoints(change: Change, tell: Progress) -> EndpointsSection:
    before = build_inventory(change.before, tell)
    after = build_inventory(change.after, tell)
    before_keys = {e.key for e in before.endpoints}
    after_keys = {e.key for e in after.endpoints}
    changes = contract_changes(change.before, change.after, before, after)
    return EndpointsSection(
        after.endpoints,
        added=[e for e in after.endpoints if e.key not in before_keys],
        removed=[e for e in before.endpoints if e.key not in after_keys],
        changes=sorted(changes, key=_breaking_first),
        unresolved=after.unresolved,
    )


def _queues(change: Change) -> Subsection | None:
    """Channels and jobs the change adds, removes or alters (``queues`` subsection)."""
    from backend_agent.analysis.queues.diff import queue_changes
    from backend_agent.analysis.queues.inventory import queue_inventory
    from backend_agent.analysis.queues.report import change_section

    after = queue_inventory(change.after)
    return change_section(after, queue_changes(queue_inventory(change.before), after))


def _breaking_first(change: ContractChange) -> tuple[int, str, int]:
    order = ("breaking", "possibly-breaking", "non-breaking").index(change.compatibility)
    return (order, change.file, change.line)


def _existing_before(change: Change) -> list[str]:
    return [path for path in change.paths if change.statuses[path] != "added"]


def _introduced(after: list[Finding], before: list[Finding]) -> list[Finding]:
    """Findings present after the change and absent before it. Lines move, so a finding is
    matched by rule, file and message; a rule firing more often than before counts anew."""
    earlier = Counter((f.rule, f.file, f.message) for f in before)
    introduced = []
    for finding in after:
        key = (finding.rule, finding.file, finding.message)
        if earlier[key]:
            earlier[key] -= 1
        else:
            introduced.append(finding)
    return introduced


def _file_change(
    change: Change, path: str, api_files: set[str], migration_files: set[str]
) -> FileChange:
    status = change.statuses[path]
    old, new = change.text(change.before, path), change.text(change.after, path)
    insertions, deletions, line = _line_counts(old, new)
    return FileChange(
        path, status, area_of(path, api_files, migration_files), insertions, deletions, line
    )


def _line_counts(old: str, new: str) -> tuple[int, int, int]:
    """Lines added and removed, and the first changed line of the new text (1 if none)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if len(old) + len(new) > _MAX_DIFF_BYTES:
        return len(new_lines), len(old_lines), 1
    insertions = deletions = 0
    first = 0
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        insertions += j2 - j1
        deletions += i2 - i1
        first = first or j1 + 1
    return insertions, deletions, first or 1


def _areas(files: Iterable[FileChange]) -> dict[str, int]:
    return dict(Counter(f.area for f in files))


def _head(project: Project) -> str | None:
    from backend_agent.analysis.git import git
    from backend_agent.errors import UserError

    if not project.is_git:
        return None
    try:
        return git(Path(project.root), "rev-parse", "--short", "HEAD").strip() or None
    except UserError:
        return None
