"""Run every security rule over a project: per-file rules, then project-level ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.parsing import LanguageName, language_for
from backend_agent.analysis.project import Project
from backend_agent.analysis.security.base import RuleBase
from backend_agent.analysis.security.config_files import config_file, scan_config
from backend_agent.analysis.security.engine import FileContext, FileRole, scan_file
from backend_agent.analysis.security.signals import (
    missing_auth,
    project_findings,
    unlimited_auth_endpoints,
)
from backend_agent.analysis.security.wrappers import wrapper_findings

MAX_FILE_BYTES = 1_000_000
_TEST_DIRS = frozenset({"test", "tests", "spec", "specs", "__tests__", "testdata", "e2e"})
_VENDORED_DIRS = frozenset(
    {"vendor", "node_modules", "third_party", "third-party", "bower_components", "site-packages"}
)
_TEST_FILE = re.compile(
    r"(^test_.*\.py|.*_test\.(py|go|rb)|conftest\.py|.*[._-](test|spec)\.[cm]?[jt]sx?"
    r"|.*_spec\.rb)$"
)
_MINIFIED_NAME = re.compile(r".*[.-]min\.[cm]?js$|.*\.bundle\.js$")
_GEMFILES = frozenset({"Gemfile", "gems.rb"})
# Build, task and tool-configuration scripts: they run on a developer's machine or in CI,
# never on a request, so the request-data rules do not apply to them.
_BUILD_FILE = re.compile(
    r"(?i)((gruntfile|gulpfile|jakefile|webpack(\.[\w-]+)*|rollup\.config|vite\.config|"
    r"babel\.config|jest\.config|karma\.conf|protractor\.conf|[\w-]+\.config|"
    r"[\w-]+rc)\.[cm]?[jt]s|rakefile|guardfile|capfile|dangerfile|[\w-]+\.rake|"
    r"(fabfile|noxfile|tasks|setup|manage_build|dodo)\.py|magefile\.go|mage\.go)$"
)
_BUILD_DIRS = frozenset({"tasks", "scripts", "script", "bin", "tools", "hack", "build", ".github"})
_REFERENCE_DIRS = frozenset({"static", "public", "assets", "dist", "seeds", "seeders"})
_REFERENCE_FILE = re.compile(r"seeds?\.(rb|py|[cm]?[jt]s)|seed[_-][\w-]+\.(rb|py|[cm]?[jt]s)")
_LOCAL_CONFIG = re.compile(r"(development|dev|test|testing|local)\.(rb|py|json|[cm]?[jt]s)")
_GO_BUILD_IGNORE = re.compile(rb"^//\s*(go:build|\+build)\s+ignore\b", re.MULTILINE)


def analyze_security(project: Project, inventory: Inventory | None = None) -> list[Finding]:
    """Every security finding, worst first; ``missing-auth`` and the auth endpoints' rate
    limits need the endpoint inventory."""
    return collect_findings(scan_files(project, project.files()), inventory)


def scan_files(
    project: Project, paths: list[str], progress: Callable[[str], None] | None = None
) -> list[FileContext]:
    """The per-file results (findings, protections, applications) of the files worth scanning;
    ``progress`` is told of each path."""
    contexts: list[FileContext] = []
    for path in paths:
        if progress is not None:
            progress(path)
        language = _language(path)
        if skipped(path) or (language is None and not config_file(path)):
            continue
        source = project.read_bytes(path)
        if language is None:
            contexts.append(scan_config(path, source))
            continue
        if len(source) > MAX_FILE_BYTES or _minified(source):
            continue
        role = file_role(path, source)
        contexts.append(scan_file(path, source, language, rules_for(language), role))
    return contexts


def collect_findings(
    contexts: list[FileContext], inventory: Inventory | None = None
) -> list[Finding]:
    """File findings (those that need a signal only when some file of the language shows it),
    project-level findings and the endpoint findings, de-duplicated, worst first."""
    findings = [f for ctx in contexts for f in ctx.findings]
    signals: dict[str, set[str]] = {}
    for ctx in contexts:
        signals.setdefault(ctx.language, set()).update(ctx.signals)
    findings += [
        finding
        for ctx in contexts
        for signal, finding in ctx.conditional
        if signal in signals[ctx.language]
    ]
    findings += project_findings(contexts) + wrapper_findings(contexts)
    if inventory is not None:
        endpoint_findings = missing_auth(inventory, contexts)
        endpoint_findings += unlimited_auth_endpoints(inventory, contexts)
        findings += [f for f in endpoint_findings if not skipped(f.file)]
    unique = {(f.rule, f.file, f.line, f.message): f for f in findings}
    return sorted(unique.values(), key=lambda f: (f.severity.rank, f.file, f.line, f.rule))


def skipped(path: str) -> bool:
    """Tests, vendored code and minified bundles are not the application's code."""
    *dirs, name = path.split("/")
    if any(d in _TEST_DIRS or d in _VENDORED_DIRS for d in dirs):
        return True
    return bool(_TEST_FILE.match(name) or _MINIFIED_NAME.match(name))


def file_role(path: str, source: bytes = b"") -> FileRole:
    """``build`` for Gruntfiles, gulpfiles, webpack and tool configs, Rake tasks, scripts run
    by Makefiles (``scripts/``, ``tasks/``, ``bin/``, Go programs marked ``//go:build
    ignore``); ``reference`` for files under ``static/``, ``public/``, ``assets/``,
    ``dist/``, seed data (``db/seeds.rb``, ``seeds/``) and development or test configuration
    (``config/env/development.js``, ``config/environments/test.rb``); ``app`` otherwise."""
    *dirs, name = path.split("/")
    local_config = "config" in dirs and _LOCAL_CONFIG.fullmatch(name) is not None
    if any(d in _REFERENCE_DIRS for d in dirs) or _REFERENCE_FILE.fullmatch(name) or local_config:
        return "reference"
    if _BUILD_FILE.match(name) or any(d in _BUILD_DIRS for d in dirs):
        return "build"
    go_tool = name.endswith(".go") and _GO_BUILD_IGNORE.search(source[:2000]) is not None
    return "build" if go_tool else "app"


def _language(path: str) -> LanguageName | None:
    if path.rsplit("/", 1)[-1] in _GEMFILES:
        return "ruby"
    return language_for(path)


def _minified(source: bytes) -> bool:
    """Long files made of a handful of very long lines are generated bundles."""
    return len(source) > 5000 and source.count(b"\n") * 500 < len(source)


@cache
def rules_for(language: LanguageName) -> RuleBase:
    """The shared rules configured with one language's tables."""
    if language == "python":
        from backend_agent.analysis.security.python import PythonRules

        return PythonRules()
    if language == "go":
        from backend_agent.analysis.security.golang import GoRules

        return GoRules()
    if language == "ruby":
        from backend_agent.analysis.security.ruby import RubyRules

        return RubyRules()
    from backend_agent.analysis.security.javascript import JavaScriptRules

    return JavaScriptRules()
