"""The org-wide report: one page across the repositories of a batch's report tasks.

It is made from each repository's JSON report (``DIR/tasks/<id>/report.json``, the schema
of docs/report.md): risks per severity, per repository and per rule; the migrations with
findings; the endpoints of each service. Rendered as HTML (one self-contained page, the
per-repository report's look), Markdown or JSON; SARIF merges the repositories' runs.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from backend_agent.analysis.report.renderers.templates import breakable_path, prose
from backend_agent.batch.results import TaskResult
from backend_agent.errors import UserError

SEVERITIES = ("critical", "high", "medium", "low", "info")
KINDS = ("rest", "graphql", "grpc", "websocket")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE", "MUTATION"})
ORG_FORMATS = ("html", "md", "json", "sarif")
LISTED_MIGRATIONS = 100  # rows of the risky-migrations table; the JSON holds them all


@dataclass
class RepoSummary:
    """One repository's line in the overview (``error`` set when its report failed)."""

    id: str
    repo: str
    report: str | None = None  # the per-repository report, relative to the output directory
    error: str | None = None
    severities: dict[str, int] = field(default_factory=dict)
    endpoints: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    unauthenticated_writes: int = 0  # state-changing endpoints with no authentication
    frameworks: list[str] = field(default_factory=list)
    migrations: int = 0
    risky_migrations: int = 0

    @property
    def risks(self) -> int:
        return sum(self.severities.values())


@dataclass(frozen=True)
class RuleCount:
    rule: str
    category: str
    severity: str
    count: int
    repos: int


@dataclass(frozen=True)
class RiskyMigration:
    repo: str
    file: str
    tool: str
    severity: str  # the worst of its findings
    rules: list[str]
    has_down: bool
    rollback: str  # the first step back


@dataclass
class OrgReport:
    repos: list[RepoSummary]
    severities: dict[str, int]
    rules: list[RuleCount]
    migrations: list[RiskyMigration]

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "severities": self.severities,
            "repos": [{**asdict(r), "risks": r.risks} for r in self.repos],
            "rules": [asdict(r) for r in self.rules],
            "risky_migrations": [asdict(m) for m in self.migrations],
        }


def build_org_report(out_dir: Path, results: list[TaskResult]) -> OrgReport:
    """The overview of the report tasks among ``results`` (their JSON reports in ``out_dir``)."""
    repos, rules, rule_repos = [], Counter[tuple[str, str, str]](), defaultdict(set)
    migrations: list[RiskyMigration] = []
    for result in results:
        if result.kind != "report":
            continue
        summary = RepoSummary(result.id, result.repo, report=result.report)
        repos.append(summary)
        if result.status != "ok" or result.report is None:
            summary.error = result.result
            continue
        data = _report_data(out_dir, result.report)
        for risk in data.get("risks", []):
            key = (risk["rule"], risk["category"], risk["severity"])
            rules[key] += 1
            rule_repos[key].add(result.id)
            summary.severities[risk["severity"]] = summary.severities.get(risk["severity"], 0) + 1
        _count_endpoints(summary, data["endpoints"]["endpoints"])
        found = data["database"]["migrations"]
        summary.migrations = len(found)
        risky = [_risky(result.id, m) for m in found if m["findings"]]
        summary.risky_migrations = len(risky)
        migrations += risky
    totals = Counter(s for r in repos for s, n in r.severities.items() for _ in range(n))
    return OrgReport(
        repos=repos,
        severities={s: totals[s] for s in SEVERITIES if totals[s]},
        rules=sorted(
            (RuleCount(r, c, s, n, len(rule_repos[(r, c, s)])) for (r, c, s), n in rules.items()),
            key=lambda r: (_rank(r.severity), -r.count, r.rule),
        ),
        migrations=sorted(migrations, key=lambda m: (_rank(m.severity), m.repo, m.file)),
    )


def render_org_report(org: OrgReport, fmt: str, out_dir: Path, results: list[TaskResult]) -> str:
    """The overview as ``html``, ``md`` or ``json``; ``sarif`` merges the repositories'
    SARIF reports, one run per repository."""
    if fmt == "json":
        return json.dumps(org.as_dict(), indent=2) + "\n"
    if fmt == "sarif":
        return _merged_sarif(out_dir, results)
    template = _environment().get_template(f"org.{fmt}")
    return template.render(org=org, severities=SEVERITIES, kinds=KINDS, limit=LISTED_MIGRATIONS)


def _report_data(out_dir: Path, report: str) -> dict[str, Any]:
    path = (out_dir / report).with_name("report.json")
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot read the JSON report ({error})") from None
    return data


def _count_endpoints(summary: RepoSummary, endpoints: list[dict[str, Any]]) -> None:
    summary.endpoints = len(endpoints)
    kinds = Counter(e["kind"] for e in endpoints)
    summary.by_kind = {k: kinds[k] for k in KINDS if kinds[k]}
    summary.unauthenticated_writes = sum(
        e["auth"] == "none" and e["method"].upper() in STATE_CHANGING for e in endpoints
    )
    summary.frameworks = sorted({e["framework"] for e in endpoints})


def _risky(repo: str, migration: dict[str, Any]) -> RiskyMigration:
    findings = sorted(migration["findings"], key=lambda f: _rank(f["severity"]))
    return RiskyMigration(
        repo=repo,
        file=migration["file"],
        tool=migration["tool"],
        severity=findings[0]["severity"],
        rules=sorted({f["rule"] for f in findings}),
        has_down=migration["has_down"],
        rollback=migration["rollback"][0] if migration["rollback"] else "",
    )


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _merged_sarif(out_dir: Path, results: list[TaskResult]) -> str:
    runs = []
    for result in results:
        if result.kind != "report" or result.status != "ok" or result.report is None:
            continue
        path = out_dir / result.report
        if path.suffix != ".sarif":
            continue
        for run in json.loads(path.read_text(encoding="utf-8")).get("runs", []):
            run["automationDetails"] = {"id": f"{result.id}/"}
            runs.append(run)
    merged = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    }
    return json.dumps(merged, indent=2) + "\n"


@cache
def _environment() -> Environment:
    """The batch's templates, beside the per-repository report's (whose stylesheet the
    overview shares)."""
    loader = ChoiceLoader(
        [
            PackageLoader("backend_agent.batch", "templates"),
            PackageLoader("backend_agent.analysis.report.renderers", "templates"),
        ]
    )
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html"], default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(path=breakable_path, prose=prose)
    return env


def write_org_report(out_dir: Path, results: list[TaskResult], fmt: str) -> Path:
    """Build and write ``out_dir/org-report.<fmt>``; returns its path."""
    org = build_org_report(out_dir, results)
    path = out_dir / f"org-report.{fmt}"
    try:
        path.write_text(render_org_report(org, fmt, out_dir, results), encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None
    return path
