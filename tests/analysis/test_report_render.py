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
from backend_agent.analysis.report import render
from backend_agent.analysis.report.model import (
    ColumnChange,
    Commit,
    DatabaseSection,
    EndpointsSection,
    FileChange,
    MigrationImpact,
    Plan,
    Report,
    Risk,
    Row,
    Subsection,
    TableChange,
    TestFile,
    TestResult,
    TestsSection,
)

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
        "svg", "g", "rect", "text", "div", "wbr", "br",
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
        "risks": {
            "type": "array",
            "items": _object(
                {
                    "severity": _SEVERITY,
                    "category": {"enum": ["breaking-change", "migration", "security"]},
                    "rule": _STR,
                    "message": _STR,
                    "file": _STR,
                    "line": _INT,
                    "action": _STR,
                }
            ),
        },
        "notes": {"type": "array", "items": _STR},
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


def huge_report(base: str | None = None) -> Report:
    """A repository bigger than any real one: every list far past the summary's limits, and
    long messages."""
    long = "x" * 180
    endpoints = [
        Endpoint("rest", "POST", f"/api/v1/resource{i}/{{id}}/items", "none", "express",
                 f"handler{i}", f"services/api/src/routes/module{i}/controller.ts", i + 1)
        for i in range(5000)
    ]  # fmt: skip
    findings = [
        Finding("drop-column", Severity.HIGH, f"drops column t{i}.c and its data {long}",
                f"db/migrate/2024{i:010}_m.rb", 3, "Back up first. " + long * 3)
        for i in range(20)
    ]  # fmt: skip
    migrations = [
        MigrationImpact(
            "rails", f"db/migrate/2024{i:010}_change_things_{i}.rb", f"2024{i:010}", "postgres",
            True,
            [{"kind": "add-column", "line": n, "table": f"t{i}", "column": f"c{n}"}
             for n in range(60)],
            findings,
            ["Run the down step: `bin/rails db:migrate:down VERSION=1`.", long * 5, long * 5],
        )
        for i in range(800)
    ]  # fmt: skip
    columns = [ColumnChange(f"column_{n}", "added", "db/1.sql", n) for n in range(40)]
    tables = [
        TableChange(f"table_with_a_rather_long_name_{i}", "altered", "db/1.sql", 1, columns=columns)
        for i in range(400)
    ]
    security = [
        Finding("sql-injection", Severity.CRITICAL, f"SQL built from input {long}",
                f"src/module{i}/repository.ts", i + 1, "Bind parameters. " + long * 2)
        for i in range(3000)
    ]  # fmt: skip
    plan = Plan(base, "abc1234" if base else None, "def5678", False, areas={"source": 90000})
    if base:
        plan.files = [FileChange(f"src/m{i}.py", "added", "source", 3, 0) for i in range(4000)]
        plan.commits = [Commit(f"{i:07x}", f"change {i} {long}", "Alice") for i in range(900)]
    tests = TestsSection(
        [TestFile(f"test/unit/module{i}/thing.test.ts", "added") for i in range(6000)]
    )
    return Report(
        "/repo",
        plan,
        EndpointsSection(endpoints, added=endpoints if base else []),
        DatabaseSection(migrations, tables, findings),
        tests,
        security,
        notes=[f"config/app{i}.json:3: invalid JSON: Expecting ',' delimiter" for i in range(300)],
    )


def test_a_whole_repository_summary_fits_a_pull_request() -> None:
    report = huge_report()
    markdown = render(report, "md")
    assert len(markdown.encode()) < 60_000
    assert "- … and 4980 more endpoints in the JSON report (`--format json`)" in markdown
    assert "- … and 780 more migrations in the JSON report" in markdown
    assert "more risks in the JSON or SARIF report" in markdown
    risks = markdown.split("### Risks & Rollbacks")[1]
    assert "| CRITICAL | security | `sql-injection` | 3000 |" in risks  # counts per rule
    assert risks.count("**CRITICAL**") == 20  # the 20 most severe
    assert len(render(report, "html").encode()) < 250_000
    full = render(report, "md", full=True)
    assert full.count("/api/v1/resource") == 5000  # --full shows everything
    assert "more endpoints" not in full


def test_the_report_of_a_change_lists_up_to_200_items_per_list() -> None:
    markdown = render(huge_report(base="main"), "md")
    plan = markdown.split("### Plan")[1].split("###")[0]
    assert plan.count("- Commit ") == 200 and "- … and 700 more commits" in plan
    assert plan.count("- source: added") == 200
    assert "| Severity |" not in markdown  # no counts table: nothing is summarised per rule


def test_summary_shows_the_unauthenticated_state_changing_endpoints_first() -> None:
    report = empty_report(None)
    report.endpoints.endpoints = [
        Endpoint("rest", "GET", f"/read{i}", "none", "flask", "h", "app.py", i) for i in range(30)
    ] + [
        Endpoint("rest", "DELETE", "/users/{id}", "required", "flask", "h", "app.py", 50),
        Endpoint("rest", "POST", "/admin/reset", "none", "flask", "h", "app.py", 60),
    ]
    endpoints = render(report, "md").split("### Endpoints/Contracts")[1].split("###")[0]
    listed = [line for line in endpoints.splitlines() if line.startswith("- `")]
    assert listed[0].startswith("- `POST /admin/reset`")
    assert listed[1].startswith("- `DELETE /users/{id}`")
    assert "- flask 32" in endpoints or "flask 32 (none 31, required 1)" in endpoints


def test_html_paths_break_only_after_a_slash_and_boxes_hold_whole_names() -> None:
    report = full_report("a_table_whose_name_is_long_enough_to_have_been_clipped_before")
    html = render(report, "html")
    assert (
        '<code class="loc"><span class="seg">src/</span><wbr><span class="seg">app.js:12</span>'
        "</code>" in html
    )
    assert "overflow-wrap: anywhere" not in html
    assert "a_table_whose_name_is_long_enough_to_have_been_clipped_before (altered)" in html
    box = re.search(r'<rect x="\d+" y="\d+" width="(\d+)"', html)
    assert box is not None and int(box.group(1)) >= 70 * 8.4  # wide enough for its title


def test_templates_ship_as_package_data() -> None:
    """pyproject's package-data covers every template, so a wheel renders like a checkout."""
    import tomllib
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(__file__).parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["backend_agent"]
    package = root / "src" / "backend_agent"
    templates = sorted((package / "analysis/report/renderers/templates").iterdir())
    assert {t.name for t in templates} >= {"report.md", "report.html", "report.css"}
    for template in templates:
        relative = template.relative_to(package).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative


def queues_section() -> Subsection:
    """What an extra analysis (queues and jobs, say) hands the report."""
    rows = [
        Row(("publish", "orders.created", "RabbitMQ"), "src/orders.js", 12),
        Row(("consume", "orders.created", "RabbitMQ"), "src/worker.js", 3, Severity.MEDIUM),
    ]
    risk = Risk(
        Severity.MEDIUM,
        "queues",
        "consumer-without-retry",
        "orders.created is consumed without a retry policy",
        "src/worker.js",
        3,
        "Add a dead-letter queue.",
    )
    return Subsection(
        "queues",
        "Queues & Jobs",
        "endpoints",
        ("Role", "Queue", "Broker"),
        rows,
        [risk],
        {"messages": [{"queue": "orders.created", "role": "publish"}]},
    )


def test_a_subsection_shows_under_its_section_with_its_risks_and_json() -> None:
    report = empty_report()
    report.subsections.append(queues_section())
    markdown = render(report, "md")
    endpoints = markdown.split("### Endpoints/Contracts")[1].split("###")[0]
    assert "- **Queues & Jobs** (2):" in endpoints
    assert "  - publish · orders.created · RabbitMQ (`src/orders.js:12`)" in endpoints
    risks = markdown.split("### Risks & Rollbacks")[1]
    assert "**MEDIUM** [queues] `consumer-without-retry`" in risks
    assert [line for line in markdown.splitlines() if line.startswith("#")] == HEADINGS
    data = json.loads(render(report, "json"))
    assert data["queues"] == {"messages": [{"queue": "orders.created", "role": "publish"}]}
    assert data["risks"][0]["category"] == "queues"
    html = render(report, "html")
    section = html.split('<section id="endpoints">')[1].split("</section>")[0]
    assert "<h3>Queues &amp; Jobs</h3>" in section and "<th>Broker</th>" in section
    assert '<span class="badge medium">medium</span>' in section  # the row with a severity


def test_the_plan_names_each_end_of_the_change_once() -> None:
    from backend_agent.analysis.report.renderers.text import plan_summary

    def summary(head: str, uncommitted: bool) -> str:
        return plan_summary(Plan("main", "abc1234", head, uncommitted), 0).split(":")[0]

    assert summary("def5678", False) == "Change from main (abc1234) to def5678"
    assert summary("abc1234", True) == "Change from main (abc1234) to the working tree"
    assert summary("def5678", True) == (
        "Change from main (abc1234) to def5678 and the uncommitted changes"
    )
