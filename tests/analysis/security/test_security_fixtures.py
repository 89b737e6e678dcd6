"""Each rule fires on its planted vulnerability (rule, file, line) and stays silent on the twin.

Planted lines carry a trailing ``expect: <rule> [<rule>...]`` comment; comments are never
analysed, so the markers cannot influence the result.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from backend_agent.analysis.endpoints.model import Endpoint, Inventory
from backend_agent.analysis.project import Project
from backend_agent.analysis.security import RULES, analyze_security

FIXTURES = Path(__file__).parents[2] / "fixtures" / "security"
LANGUAGES = ["python", "javascript", "go", "ruby"]
_MARKER = re.compile(r"(?:#|//) expect: ([\w.\- ]+)$")


def planted(root: Path) -> Counter[tuple[str, str, int]]:
    expected: Counter[tuple[str, str, int]] = Counter()
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = _MARKER.search(line)
            for rule in match.group(1).split() if match else []:
                expected[(rule, path.relative_to(root).as_posix(), number)] += 1
    return expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_plant_is_found_and_nothing_else(language: str) -> None:
    root = FIXTURES / language / "vulnerable"
    expected = planted(root)
    found = Counter((f.rule, f.file, f.line) for f in analyze_security(Project(root)))
    assert found - expected == Counter(), "findings with no plant"
    assert expected - found == Counter(), "plants not found"


@pytest.mark.parametrize("language", LANGUAGES)
def test_clean_twin_is_silent(language: str) -> None:
    assert analyze_security(Project(FIXTURES / language / "clean")) == []


def test_fixtures_cover_every_rule_category() -> None:
    planted_rules = set()
    roots = [FIXTURES / language / "vulnerable" for language in LANGUAGES]
    roots += sorted((FIXTURES / "apps").glob("*/vulnerable"))
    for root in roots:
        planted_rules |= {rule for rule, _, _ in planted(root)}
    # missing-auth comes from the endpoint inventory and has its own test below
    assert planted_rules | {"missing-auth"} == set(RULES)


def test_findings_carry_severity_message_and_fix() -> None:
    findings = analyze_security(Project(FIXTURES / "python" / "vulnerable"))
    assert [f.severity.rank for f in findings] == sorted(f.severity.rank for f in findings)
    for finding in findings:
        assert finding.severity == RULES[finding.rule].severity
        assert finding.message and finding.fix == RULES[finding.rule].fix


def _endpoint(method: str, path: str, auth: str, line: int) -> Endpoint:
    return Endpoint("rest", method, path, auth, "express", "handler", "src/server.js", line)  # type: ignore[arg-type]


def test_missing_auth_flags_only_state_changing_endpoints_without_auth() -> None:
    inventory = Inventory(
        [
            _endpoint("POST", "/orders", "none", 10),
            _endpoint("DELETE", "/orders/{id}", "none", 11),
            _endpoint("GET", "/orders", "none", 12),
            _endpoint("PUT", "/orders/{id}", "required", 13),
            _endpoint("PATCH", "/orders/{id}", "unknown", 14),
            _endpoint("POST", "/api/users/login", "none", 15),
            _endpoint("POST", "/auth/token", "none", 16),
            _endpoint("POST", "/webhooks/stripe", "none", 17),
            Endpoint("rest", "POST", "/api/users", "none", "fastapi", "auth.register", "a.py", 5),
            Endpoint(
                "rest", "POST", "/api/users", "none", "fastapi", "users.create_user", "a.py", 9
            ),
            Endpoint("rest", "POST", "/items", "none", "flask", "h", "tests/test_app.py", 3),
            Endpoint(
                "rest", "POST", "/level", "none", "httprouter", "mw.AuthCheck(setLevel)", "s.go", 9
            ),
            Endpoint(
                "graphql", "MUTATION", "createOrder", "none", "apollo", "r", "schema.graphql", 3
            ),
        ]
    )
    findings = analyze_security(Project(FIXTURES / "javascript" / "clean"), inventory)
    assert [(f.rule, f.file, f.line) for f in findings] == [
        ("missing-auth", "a.py", 9),  # registration by handler name is public; create_user is not
        ("missing-auth", "src/server.js", 10),
        ("missing-auth", "src/server.js", 11),
    ]
    assert "POST /orders" in findings[1].message


def test_rules_read_a_git_revision(tmp_path: Path) -> None:
    import subprocess

    source = FIXTURES / "python" / "vulnerable" / "app" / "views.py"
    (tmp_path / "views.py").write_text(source.read_text())
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "base"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True
        )
    (tmp_path / "views.py").write_text("")
    at_head = analyze_security(Project(tmp_path).at("HEAD"))
    assert any(f.rule == "sql-injection" for f in at_head)
    assert not any(f.rule == "sql-injection" for f in analyze_security(Project(tmp_path)))


def test_project_level_rules_see_javascript_and_typescript_as_one_application(
    tmp_path: Path,
) -> None:
    (tmp_path / "server.ts").write_text("import express from 'express';\nconst app = express();\n")
    (tmp_path / "security.js").write_text(
        "const helmet = require('helmet');\nconst rateLimit = require('express-rate-limit');\n"
    )
    assert analyze_security(Project(tmp_path)) == []
    (tmp_path / "security.js").unlink()
    found = {(f.rule, f.file, f.line) for f in analyze_security(Project(tmp_path))}
    assert found == {
        ("missing-rate-limit", "server.ts", 2),
        ("missing-security-headers", "server.ts", 2),
    }


def test_ssrf_looks_at_the_url_not_at_the_options(tmp_path: Path) -> None:
    (tmp_path / "proxy.js").write_text(
        "async function forward(req) {\n"
        "  const options = { method: 'POST', body: req.body };\n"
        "  await fetch(new Request('https://api.example.com/hook', options));\n"
        "  await fetch(new Request(req.query.target, options));\n"
        "}\n"
    )
    assert [(f.rule, f.line) for f in analyze_security(Project(tmp_path))] == [("ssrf", 4)]


def test_ruby_operator_injection_needs_mongodb_in_the_project(tmp_path: Path) -> None:
    """``where(email: params[:email])`` is safe with ActiveRecord, injectable with Mongoid."""
    (tmp_path / "app.rb").write_text(
        "class UsersController < ApplicationController\n"
        "  def show\n"
        "    @user = User.where(email: params[:email]).first\n"
        "  end\n"
        "end\n"
    )
    (tmp_path / "Gemfile").write_text('gem "rails"\ngem "pg"\n')
    assert analyze_security(Project(tmp_path)) == []
    (tmp_path / "Gemfile").write_text('gem "rails"\ngem "mongoid"\n')
    found = [(f.rule, f.file, f.line) for f in analyze_security(Project(tmp_path))]
    assert found == [("nosql-injection.operator", "app.rb", 3)]
