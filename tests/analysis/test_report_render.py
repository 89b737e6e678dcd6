"""The renderers on hand-built reports: template headings, empty sections, escaping, the diagram."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.analysis.endpoints.model import ContractChange, Endpoint
from backend_agent.analysis.findings import Finding, Severity
from backend_agent.analysis.report import (
    ColumnChange,
    Commit,
    DatabaseSection,
    EndpointsSection,
    FileChange,
    MigrationImpact,
    Plan,
    Report,
    TableChange,
    TestFile,
    TestResult,
    TestsSection,
)
from backend_agent.analysis.report_render import render

HEADINGS = [
    "## Backend Agent Report",
    "### Plan",
    "### Endpoints/Contracts",
    "### Database Impact",
    "### Tests",
    "### Risks & Rollbacks",
]


def empty_report(base: str | None = "main") -> Report:
    plan = Plan(base, "abc1234" if base else None, "def5678", False)
    return Report("/repo", plan, EndpointsSection(), DatabaseSection(), TestsSection(), [])


def full_report(text: str = "users") -> Report:
    endpoint = Endpoint("rest", "POST", f"/{text}", "none", "express", "create", "src/app.js", 7)
    removal = ContractChange(
        "endpoint-removed", "breaking", f"DELETE /{text} removed", "src/app.js", 9, "rest"
    )
    drop = Finding("drop-column", Severity.HIGH, f"drops {text}.legacy", "db/1.sql", 3, "back up")
    injection = Finding("sql-injection", Severity.CRITICAL, "SQL built", "src/app.js", 12, "bind")
    plan = Plan(
        "main",
        "abc1234",
        "def5678",
        True,
        [Commit("def5678", f"Add {text}", "Alice")],
        [FileChange("src/app.js", "modified", "api", 10, 2, 7)],
        {"api": 1},
    )
    table = TableChange(
        text,
        "altered",
        "db/1.sql",
        3,
        columns=[
            ColumnChange("legacy", "dropped", "db/1.sql", 3),
            ColumnChange("name", "renamed", "db/1.sql", 4, new_name="full_name"),
        ],
    )
    migration = MigrationImpact(
        "sql",
        "db/1.sql",
        "1",
        "postgres",
        False,
        [{"kind": "drop-column", "line": 3, "table": text, "column": "legacy"}],
        [drop],
        ["Plain SQL has no down step."],
    )
    tests = TestsSection(
        [TestFile("test/app.test.js", "added", 1)],
        results=[
            TestResult("jest", "npx jest", ".", 1, False, 2.5, 4, 1, 0, "Tests: 1 failed, 4 passed")
        ],
    )
    endpoints = EndpointsSection([endpoint], added=[endpoint], changes=[removal])
    return Report(
        "/repo", plan, endpoints, DatabaseSection([migration], [table]), tests, [injection]
    )


def test_markdown_uses_the_template_headings_even_when_empty() -> None:
    text = render(empty_report(), "md")
    assert [line for line in text.splitlines() if line.startswith("#")] == HEADINGS
    assert "- No endpoint or contract changes." in text
    assert "- No migrations in this change." in text
    assert "- No risks found." in text


def test_risks_are_worst_first_across_categories() -> None:
    risks = full_report().risks
    assert [(r.severity, r.category, r.rule) for r in risks] == [
        (Severity.CRITICAL, "security", "sql-injection"),
        (Severity.HIGH, "breaking-change", "endpoint-removed"),
        (Severity.HIGH, "migration", "drop-column"),
    ]
    markdown = render(full_report(), "md")
    risks_text = markdown.split("### Risks & Rollbacks")[1]
    assert risks_text.index("sql-injection") < risks_text.index("endpoint-removed")
    assert "(`src/app.js:12`). Fix: bind" in risks_text
    assert "(`db/1.sql:3`). Rollback: back up" in risks_text


def test_markdown_lists_breaking_changes_before_additions() -> None:
    endpoints = render(full_report(), "md").split("### Endpoints/Contracts")[1]
    assert endpoints.index("**BREAKING** `endpoint-removed`") < endpoints.index("Added `POST")


def test_json_round_trips_and_carries_the_schema_version() -> None:
    data = json.loads(render(full_report(), "json"))
    assert data["schema_version"] == 1
    assert data["database"]["migrations"][0]["findings"][0]["rule"] == "drop-column"
    assert data["endpoints"]["changes"][0]["compatibility"] == "breaking"
    assert data["tests"]["results"][0]["failed"] == 1
    assert data["security"]["findings"][0]["severity"] == "critical"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_html_escapes_everything_it_is_given(name: str) -> None:
    html = render(full_report(name), "html")
    parser = _Collector()
    parser.feed(html)
    assert set(parser.tags) <= {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p",
        "section", "table", "thead", "tbody", "tr", "th", "td", "code", "span", "ol", "li",
        "svg", "g", "rect", "text",
    }  # fmt: skip
    assert f"Add {name}" in "".join(parser.text)


def test_html_diagram_draws_a_box_per_table_with_its_column_changes() -> None:
    html = render(full_report(), "html")
    svg = re.search(r"<svg.*?</svg>", html, re.DOTALL)
    assert svg is not None
    assert 'data-table="users"' in svg.group(0)
    assert "− legacy" in svg.group(0) and "~ name → full_name" in svg.group(0)
    assert '<span class="badge critical">critical</span>' in html


def test_markdown_shows_test_results_when_run() -> None:
    tests = render(full_report(), "md").split("### Tests")[1].split("###")[0]
    assert "- Added `test/app.test.js:1`" in tests
    assert (
        "- Result jest: 4 passed, 1 failed, 0 skipped (exit 1, 2.5 s): Tests: 1 failed, 4 passed"
        in tests
    )
    assert "Not run" not in tests


def _object(properties: dict[str, object]) -> dict[str, object]:
    """A JSON Schema object with exactly these keys, as docs/report.md lists them."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_STR, _INT, _BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_NSTR = {"type": ["string", "null"]}
_SEVERITY = {"enum": ["critical", "high", "medium", "low", "info"]}
_FINDING = _object(
    {"rule": _STR, "severity": _SEVERITY, "message": _STR, "file": _STR, "line": _INT, "fix": _STR}
)
_ENDPOINT = _object(
    {
        "kind": _STR, "method": _STR, "path": _STR,
        "auth": {"enum": ["required", "optional", "none", "unknown"]},
        "framework": _STR, "handler": _STR, "file": _STR, "line": _INT,
    }
)  # fmt: skip
_COUNT = {"type": ["integer", "null"]}
REPORT_SCHEMA = _object(
    {
        "schema_version": {"const": 1},
        "tool": _object({"name": {"const": "backend-agent"}, "version": _STR}),
        "repository": _STR,
        "base": _NSTR,
        "base_commit": _NSTR,
        "head_commit": _NSTR,
        "uncommitted": _BOOL,
        "plan": _object(
            {
                "commits": {
                    "type": "array",
                    "items": _object({"sha": _STR, "subject": _STR, "author": _STR}),
                },
                "files": {
                    "type": "array",
                    "items": _object(
                        {
                            "path": _STR,
                            "old_path": _NSTR,
                            "status": {"enum": ["added", "modified", "deleted", "renamed"]},
                            "area": {
                                "enum": ["api", "database", "tests", "config", "docs", "source"]
                            },
                            "insertions": _INT,
                            "deletions": _INT,
                            "line": _INT,
                        }
                    ),
                },
                "areas": {"type": "object", "additionalProperties": _INT},
                "insertions": _INT,
                "deletions": _INT,
            }
        ),
        "endpoints": _object(
            {
                "endpoints": {"type": "array", "items": _ENDPOINT},
                "added": {"type": "array", "items": _ENDPOINT},
                "removed": {"type": "array", "items": _ENDPOINT},
                "changes": {
                    "type": "array",
                    "items": _object(
                        {
                            "rule": _STR,
                            "compatibility": {
                                "enum": ["breaking", "possibly-breaking", "non-breaking"]
                            },
                            "message": _STR,
                            "file": _STR,
                            "line": _INT,
                            "kind": _STR,
                        }
                    ),
                },
                "unresolved": {
                    "type": "array",
                    "items": _object(
                        {"file": _STR, "line": _INT, "fragment": _STR, "reason": _STR}
                    ),
                },
            }
        ),
        "database": _object(
            {
                "migrations": {
                    "type": "array",
                    "items": _object(
                        {
                            "tool": _STR,
                            "file": _STR,
                            "name": _STR,
                            "dialect": _STR,
                            "has_down": _BOOL,
                            "operations": {
                                "type": "array",
                                "items": {"type": "object", "required": ["kind", "line"]},
                            },
                            "findings": {"type": "array", "items": _FINDING},
                            "rollback": {"type": "array", "items": _STR},
                        }
                    ),
                },
                "schema_changes": {
                    "type": "array",
                    "items": _object(
                        {
                            "table": _STR,
                            "status": {"enum": ["created", "dropped", "renamed", "altered"]},
                            "file": _STR,
                            "line": _INT,
                            "new_name": _NSTR,
                            "columns": {
                                "type": "array",
                                "items": _object(
                                    {
                                        "column": _STR,
                                        "change": {
                                            "enum": ["added", "dropped", "renamed", "altered"]
                                        },
                                        "file": _STR,
                                        "line": _INT,
                                        "new_name": _NSTR,
                                        "type": _NSTR,
                                    }
                                ),
                            },
                        }
                    ),
                },
                "findings": {"type": "array", "items": _FINDING},
            }
        ),
        "tests": _object(
            {
                "files": {
                    "type": "array",
                    "items": _object({"path": _STR, "status": _STR, "line": _INT}),
                },
                "runners": {
                    "type": "array",
                    "items": _object({"name": _STR, "command": _STR, "directory": _STR}),
                },
                "results": {
                    "type": ["array", "null"],
                    "items": _object(
                        {
                            "runner": _STR,
                            "command": _STR,
                            "directory": _STR,
                            "exit_code": _COUNT,
                            "timed_out": _BOOL,
                            "duration": {"type": "number"},
                            "passed": _COUNT,
                            "failed": _COUNT,
                            "skipped": _COUNT,
                            "summary": _STR,
                        }
                    ),
                },
            }
        ),
        "security": _object({"findings": {"type": "array", "items": _FINDING}}),
        "queues": {"type": ["object", "null"]},  # backend-agent queues --format json
        "risks": {
            "type": "array",
            "items": _object(
                {
                    "severity": _SEVERITY,
                    "category": {"enum": ["breaking-change", "migration", "security", "queues"]},
                    "rule": _STR,
                    "message": _STR,
                    "file": _STR,
                    "line": _INT,
                    "action": _STR,
                }
            ),
        },
    }
)


def test_json_matches_the_schema_documented_in_docs_report_md() -> None:
    for report in (full_report(), empty_report(), empty_report(None)):
        jsonschema.validate(json.loads(render(report, "json")), REPORT_SCHEMA)


def test_markdown_lists_at_most_200_changed_files() -> None:
    report = empty_report()
    report.plan.files = [FileChange(f"src/m{i:03}.py", "added", "source", 1, 0) for i in range(250)]
    plan = render(report, "md").split("### Plan")[1].split("###")[0]
    assert plan.count("- source: added") == 200
    assert "- … and 50 more" in plan


def test_removed_auth_is_a_security_risk_even_though_clients_keep_working() -> None:
    report = empty_report()
    report.endpoints.changes = [
        ContractChange(
            "auth-removed", "non-breaking", "DELETE /x no longer needs auth", "a.py", 4, "rest"
        ),
        ContractChange("endpoint-added", "non-breaking", "new POST /y", "a.py", 9, "rest"),
    ]
    [risk] = report.risks
    assert (risk.severity, risk.category, risk.rule, risk.line) == (
        Severity.HIGH,
        "security",
        "auth-removed",
        4,
    )
