"""End to end: a repository whose last commit adds an endpoint, a destructive migration and a
test; ``backend-agent report --base HEAD~1`` puts each fact in its section, at its file:line."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from test_report_render import REPORT_SCHEMA  # the schema docs/report.md documents

BASE_FILES = {
    "requirements.txt": "flask\nalembic\npytest\n",
    "app.py": (
        "from flask import Flask, jsonify\n"
        "\n"
        "app = Flask(__name__)\n"
        "\n"
        "\n"
        '@app.get("/users")\n'
        "def list_users():\n"
        "    return jsonify([])\n"
    ),
    "migrations/versions/0001_create_users.py": (
        '"""create users"""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        "\n"
        'revision = "0001"\n'
        "down_revision = None\n"
        "\n"
        "\n"
        "def upgrade():\n"
        "    op.create_table(\n"
        '        "users",\n'
        '        sa.Column("id", sa.Integer, primary_key=True),\n'
        '        sa.Column("legacy_code", sa.String(20)),\n'
        "    )\n"
        "\n"
        "\n"
        "def downgrade():\n"
        '    op.drop_table("users")\n'
    ),
    "tests/test_users.py": "def test_users():\n    assert True\n",
}
ENDPOINT = '\n\n@app.post("/orders")\ndef create_order():\n    return jsonify({"id": 1}), 201\n'
MIGRATION = (
    '"""drop legacy code"""\n'
    "import sqlalchemy as sa\n"
    "from alembic import op\n"
    "\n"
    'revision = "0002"\n'
    'down_revision = "0001"\n'
    "\n"
    "\n"
    "def upgrade():\n"
    '    op.drop_column("users", "legacy_code")\n'
    "\n"
    "\n"
    "def downgrade():\n"
    '    op.add_column("users", sa.Column("legacy_code", sa.String(20)))\n'
)
NEW_TEST = "def test_create_order():\n    assert 1 + 1 == 2\n"
HEADINGS = [
    "## Backend Agent Report",
    "### Plan",
    "### Endpoints/Contracts",
    "### Database Impact",
    "### Tests",
    "### Risks & Rollbacks",
]


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Alice", "-c", "user.email=alice@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("service")
    _git(root, "init", "-q")
    _write(root, BASE_FILES)
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "Base service")
    _write(
        root,
        {
            "app.py": BASE_FILES["app.py"] + ENDPOINT,
            "migrations/versions/0002_drop_legacy_code.py": MIGRATION,
            "tests/test_orders.py": NEW_TEST,
        },
    )
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "Add orders endpoint; drop users.legacy_code")
    return root


def report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend_agent", "report", *args],
        capture_output=True,
        text=True,
        timeout=240,
    )


def sections(markdown: str) -> dict[str, str]:
    """Heading -> the text under it, for the report's ### sections."""
    parts = re.split(r"^(### .+)$", markdown, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_markdown_puts_each_fact_in_its_section(repo: Path) -> None:
    result = report(str(repo), "--base", "HEAD~1")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("#")] == HEADINGS
    found = sections(result.stdout)
    app = BASE_FILES["app.py"] + ENDPOINT
    endpoint_at = f"app.py:{_line_of(app, '@app.post')}"
    drop_at = f"migrations/versions/0002_drop_legacy_code.py:{_line_of(MIGRATION, 'drop_column')}"

    plan = found["### Plan"]
    assert "Add orders endpoint; drop users.legacy_code" in plan
    assert "api: modified `app.py:" in plan
    assert "database: added `migrations/versions/0002_drop_legacy_code.py:1`" in plan
    assert "tests: added `tests/test_orders.py:1`" in plan

    endpoints = found["### Endpoints/Contracts"]
    # the handler's name is the inventory's business; the report must carry it and the auth
    assert re.search(
        rf"^- Added `POST /orders`: flask handler \S*create_order, auth none \(`{endpoint_at}`\)$",
        endpoints,
        re.MULTILINE,
    )
    assert "/users" not in endpoints  # unchanged endpoints are not part of the change

    database = found["### Database Impact"]
    assert "`drop-column`" in database and f"`{drop_at}`" in database
    assert "Rollback: Run the down step: `alembic downgrade 0001`." in database
    assert "0001_create_users" not in database  # the base's migration is not part of it

    tests = found["### Tests"]
    assert "Added `tests/test_orders.py:1`" in tests
    assert "test_users.py" not in tests
    assert "Runner pytest:" in tests

    risks = found["### Risks & Rollbacks"]
    risk_lines = [line for line in risks.splitlines() if line.startswith("- ")]
    assert any("[migration] `drop-column`" in r and drop_at in r for r in risk_lines)
    assert any("[security] `missing-auth`" in r and endpoint_at in r for r in risk_lines)
    # the Flask app predates the change: its missing rate limit is not this change's risk
    assert not any("missing-rate-limit" in r for r in risk_lines)


def test_json_follows_the_documented_schema(repo: Path) -> None:
    result = report(str(repo), "--base", "HEAD~1", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.validate(data, REPORT_SCHEMA)
    assert data["schema_version"] == 1
    assert data["base"] == "HEAD~1" and data["uncommitted"] is False
    assert [c["subject"] for c in data["plan"]["commits"]] == [
        "Add orders endpoint; drop users.legacy_code"
    ]
    areas = {f["path"]: f["area"] for f in data["plan"]["files"]}
    assert areas == {
        "app.py": "api",
        "migrations/versions/0002_drop_legacy_code.py": "database",
        "tests/test_orders.py": "tests",
    }
    app = BASE_FILES["app.py"] + ENDPOINT
    [added] = data["endpoints"]["added"]
    assert (added["method"], added["path"], added["auth"]) == ("POST", "/orders", "none")
    assert (added["file"], added["line"]) == ("app.py", _line_of(app, "@app.post"))
    assert any(c["rule"] == "endpoint-added" for c in data["endpoints"]["changes"])
    [migration] = data["database"]["migrations"]
    assert migration["tool"] == "alembic" and migration["has_down"] is True
    drop = [f for f in migration["findings"] if f["rule"] == "drop-column"]
    assert [(f["file"], f["line"]) for f in drop] == [
        ("migrations/versions/0002_drop_legacy_code.py", _line_of(MIGRATION, "drop_column"))
    ]
    assert migration["rollback"][0] == "Run the down step: `alembic downgrade 0001`."
    [table] = data["database"]["schema_changes"]
    assert table["table"] == "users"
    assert [(c["column"], c["change"]) for c in table["columns"]] == [("legacy_code", "dropped")]
    assert data["tests"]["files"] == [
        {"path": "tests/test_orders.py", "status": "added", "line": 1}
    ]
    assert data["tests"]["results"] is None
    missing_auth = [f for f in data["security"]["findings"] if f["rule"] == "missing-auth"]
    assert [(f["file"], f["line"]) for f in missing_auth] == [("app.py", added["line"])]
    ranks = ["critical", "high", "medium", "low", "info"]
    severities = [ranks.index(r["severity"]) for r in data["risks"]]
    assert severities == sorted(severities)
    assert {r["rule"] for r in data["risks"]} >= {"drop-column", "missing-auth"}


def test_uncommitted_changes_are_part_of_the_change(repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(repo, work)
    app = (work / "app.py").read_text()
    (work / "app.py").write_text(
        app
        + "\n\n"
        + '@app.get("/search")\n'
        + "def search():\n"
        + "    from flask import request\n"
        + "    import sqlite3\n"
        + '    q = request.args["q"]\n'
        + "    return str(sqlite3.connect('x').execute(f\"SELECT * FROM t WHERE n = '{q}'\"))\n"
    )
    (work / "src").mkdir()
    (work / "src" / "data-source.ts").write_text(
        "import { DataSource } from 'typeorm';\n"
        "export const db = new DataSource({\n  type: 'postgres',\n  synchronize: true,\n});\n"
    )
    result = report(str(work), "--base", "HEAD", "--format", "json")
    data = json.loads(result.stdout)
    [auto_sync] = data["database"]["findings"]
    assert (auto_sync["rule"], auto_sync["file"], auto_sync["line"]) == (
        "orm-auto-sync",
        "src/data-source.ts",
        4,
    )
    assert any(r["rule"] == "orm-auto-sync" for r in data["risks"])
    assert data["uncommitted"] is True and data["plan"]["commits"] == []
    [injection] = [f for f in data["security"]["findings"] if f["rule"] == "sql-injection"]
    assert injection["file"] == "app.py"
    assert injection["line"] == len(app.splitlines()) + 8
    assert [e["path"] for e in data["endpoints"]["added"]] == ["/search"]


def test_whole_repository_without_base(repo: Path) -> None:
    result = report(str(repo))
    assert result.returncode == 0, result.stderr
    found = sections(result.stdout)
    assert "Whole repository at" in found["### Plan"]
    assert "`GET /users`" in found["### Endpoints/Contracts"]
    assert "`POST /orders`" in found["### Endpoints/Contracts"]
    assert "0001_create_users.py" in found["### Database Impact"]
    assert "0002_drop_legacy_code.py" in found["### Database Impact"]
    assert "tests/test_users.py:1" in found["### Tests"]
    assert "tests/test_orders.py:1" in found["### Tests"]
    assert "missing-rate-limit" in found["### Risks & Rollbacks"]


def test_sarif_lists_the_risks(repo: Path) -> None:
    result = report(str(repo), "--base", "HEAD~1", "--format", "sarif")
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    located = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in results
    }
    assert ("drop-column", "migrations/versions/0002_drop_legacy_code.py") in located
    assert ("missing-auth", "app.py") in located


def test_output_file_and_errors(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = report(str(repo), "--base", "HEAD~1", "-o", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text().startswith("## Backend Agent Report\n")
    bad = report(str(repo), "--base", "no-such-revision")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("backend-agent: error: ") and len(bad.stderr.splitlines()) == 1
    plain = tmp_path / "plain"
    plain.mkdir()
    not_git = report(str(plain), "--base", "HEAD~1")
    assert not_git.returncode == 2 and "not" in not_git.stderr and "git" in not_git.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_html_renders_the_findings_in_headless_chromium(repo: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert (
        report(str(repo), "--base", "HEAD~1", "--format", "html", "-o", str(page)).returncode == 0
    )
    html = page.read_text()
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert not re.search(r"(href|url\()\s*=?\s*[\"']?https?:", html)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for heading in (
        "Plan",
        "Endpoints/Contracts",
        "Database Impact",
        "Tests",
        "Risks &amp; Rollbacks",
    ):
        assert f"<h2>{heading}</h2>" in dom
    assert 'class="badge high">high</span>' in dom
    assert "migrations/versions/0002_drop_legacy_code.py:10" in re.sub(r"<[^>]+>", "", dom)
    assert "POST /orders" in dom
    assert re.search(r'<g class="table-box" data-table="users">', dom)
    assert "− legacy_code" in dom
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a rendered page, not a blank one


# Added to a copy of the report (the report itself has no scripts): measures the layout and
# writes what it found into the DOM that --dump-dom prints.
MEASURE = """<script>
window.addEventListener("load", () => {
  const locations = [...document.querySelectorAll("code.loc")].map((code) => {
    // The characters each line of the location starts after: a "/" when it wraps at one.
    let text = "", top = null;
    const breaks = [];
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (let i = 0; i < node.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (rect && top !== null && rect.top > top + 2) breaks.push(text.slice(-1));
        if (rect) top = rect.top;
        text += node.data[i];
      }
    }
    return {text, breaks};
  });
  const texts = [...document.querySelectorAll("svg g.table-box")].flatMap((box) => {
    const rect = box.querySelector("rect").getBBox();
    return [...box.querySelectorAll("text")].map((t) => ({
      text: t.textContent, right: t.getBBox().x + t.getComputedTextLength(),
      limit: rect.x + rect.width,
    }));
  });
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({locations, texts});
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_html_layout_keeps_paths_and_table_names_whole(tmp_path: Path) -> None:
    """In a real browser at a laptop's width: a location wraps only at a slash (never a few
    characters per line), and every line of the schema diagram fits inside its box."""
    root = tmp_path / "repo"
    deep = "services/billing-service/src/modules/subscriptions/infrastructure/persistence"
    table = "subscription_billing_cycle_adjustments_history"
    _write(
        root,
        {
            f"{deep}/migrations/0001_{table}.sql": (
                f"CREATE TABLE {table}_archive (id bigint);\n"
                f"ALTER TABLE {table} ADD COLUMN adjustment_reason_description_text text;\n"
                f"ALTER TABLE {table} DROP COLUMN legacy_adjustment_reference_identifier;\n"
            ),
            f"{deep}/app.py": BASE_FILES["app.py"] + ENDPOINT,
        },
    )
    page = tmp_path / "report.html"
    assert report(str(root), "--format", "html", "-o", str(page)).returncode == 0
    measured_page = tmp_path / "measured.html"
    measured_page.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, *_chromium_flags(tmp_path), "--window-size=800,800", "--dump-dom",
         measured_page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.DOTALL)
    assert found is not None, dom[-2000:]
    measured = json.loads(html.unescape(found.group(1)))
    assert measured["locations"] and measured["texts"]
    assert any(location["breaks"] for location in measured["locations"])  # long ones wrap...
    for location in measured["locations"]:
        assert set(location["breaks"]) <= {"/"}, location  # ...only after a slash
    for text in measured["texts"]:
        assert text["right"] <= text["limit"], text  # nothing drawn past its box
    assert any(table in t["text"] for t in measured["texts"])  # the whole name is drawn


def _chromium_flags(tmp_path: Path) -> list[str]:
    return [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip


def test_run_tests_reports_the_runner_counts(repo: Path) -> None:
    result = report(str(repo), "--base", "HEAD~1", "--run-tests")
    assert result.returncode == 0, result.stderr
    tests = sections(result.stdout)["### Tests"]
    assert "- Result pytest: 2 passed, 0 failed, 0 skipped (exit 0" in tests


def test_progress_bar_goes_to_a_terminal_stderr_and_never_to_stdout(tmp_path: Path) -> None:
    import os
    import pty
    import threading

    root = tmp_path / "big"  # big enough for the report to outlast the bar's delay
    routes = "".join(ENDPOINT.replace("orders", f"orders{n}") for n in range(20))
    module = BASE_FILES["app.py"] + routes.replace("create_order", "create")
    _write(root, {f"pkg/m{i}.py": module for i in range(600)})
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "many modules")
    leader, follower = pty.openpty()
    seen: list[bytes] = []

    def drain() -> None:  # keep reading so that the child never blocks on a full terminal
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the child
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    with subprocess.Popen(
        [sys.executable, "-m", "backend_agent", "report", str(root), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=follower,
    ) as child:
        os.close(follower)
        stdout, _ = child.communicate(timeout=240)
    reader.join(timeout=30)
    os.close(leader)
    assert child.returncode == 0
    assert json.loads(stdout)["schema_version"] == 1
    terminal = b"".join(seen)
    assert b"report" in terminal and b"security" in terminal


def test_a_subdirectory_of_a_repository_reports_its_own_change(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    _write(tmp_path, {"svc/app.py": BASE_FILES["app.py"], "web/readme.md": "web\n"})
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "base")
    _write(tmp_path, {"svc/app.py": BASE_FILES["app.py"] + ENDPOINT, "web/readme.md": "web!\n"})
    _git(tmp_path, "commit", "-qam", "orders")
    data = json.loads(report(str(tmp_path / "svc"), "--base", "HEAD~1", "--format", "json").stdout)
    assert [f["path"] for f in data["plan"]["files"]] == ["app.py"]
    [added] = data["endpoints"]["added"]
    assert (added["file"], added["line"]) == (
        "app.py",
        _line_of(BASE_FILES["app.py"] + ENDPOINT, "@app.post"),
    )


def test_a_new_application_is_checked_against_protections_anywhere(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    _write(
        tmp_path,
        {
            "security.js": "const helmet = require('helmet');\n"
            "const limit = require('express-rate-limit');\n"
            "module.exports = [helmet(), limit()];\n",
            "package.json": '{"name": "svc"}\n',
        },
    )
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "protections")
    _write(tmp_path, {"server.js": "const express = require('express');\nconst app = express();\n"})

    def project_level() -> set[tuple[str, str, int]]:
        result = report(str(tmp_path), "--base", "HEAD", "--format", "json")
        findings = json.loads(result.stdout)["security"]["findings"]
        return {(f["rule"], f["file"], f["line"]) for f in findings}

    assert project_level() == set()  # helmet and the limiter live in an unchanged file
    (tmp_path / "security.js").unlink()
    assert project_level() == {
        ("missing-rate-limit", "server.js", 2),
        ("missing-security-headers", "server.js", 2),
    }
