"""``backend-agent endpoints`` as a user runs it: real process, JSON/OpenAPI/table output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "endpoints"
ENTRY = "import sys; from backend_agent.cli import main; sys.exit(main(sys.argv[1:]))"


def run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BACKEND_AGENT_CACHE_DIR": str(cache), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, "endpoints", *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_json_output_is_the_documented_shape(tmp_path: Path) -> None:
    proc = run(str(FIXTURES / "gin"), "--format", "json", cache=tmp_path)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert set(document) == {"endpoints", "unresolved"}
    first = document["endpoints"][0]
    assert set(first) == {"kind", "method", "path", "auth", "framework", "handler", "file", "line"}
    assert {"method": "POST", "path": "/api/users/login"}.items() <= next(
        e for e in document["endpoints"] if e["path"] == "/api/users/login"
    ).items()


def test_openapi_output(tmp_path: Path) -> None:
    proc = run(str(FIXTURES / "fastapi"), "--format", "openapi", cache=tmp_path)
    document = json.loads(proc.stdout)
    assert document["openapi"].startswith("3.")
    items = document["paths"]["/api/v1/items/{item_id}"]
    assert set(items) == {"put", "patch", "delete"}
    assert items["delete"]["security"] == [{"bearerAuth": []}]


def test_table_output_and_clear_error(tmp_path: Path) -> None:
    proc = run(str(FIXTURES / "django"), cache=tmp_path)
    assert proc.returncode == 0 and "/api/v1/articles/{slug}/favorite" in proc.stdout
    missing = run(str(tmp_path / "nowhere"), cache=tmp_path)
    assert missing.returncode == 2
    assert (
        missing.stderr.startswith("backend-agent: error:") and len(missing.stderr.splitlines()) == 1
    )


def test_base_outside_git_is_a_user_error(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text("print('no routes')\n")
    proc = run(str(app), "--base", "HEAD~1", "--format", "json", cache=tmp_path)
    assert proc.returncode == 2 and "error" in proc.stderr


def test_spec_comparison_when_the_repository_has_an_openapi_document(tmp_path: Path) -> None:
    proc = run(str(FIXTURES / "flask"), "--format", "json", cache=tmp_path)
    comparison = json.loads(proc.stdout)["spec_comparison"]
    declared_only = {(r["method"], r["path"]) for r in comparison["in_spec_not_in_code"]}
    code_only = {(r["method"], r["path"]) for r in comparison["in_code_not_in_spec"]}
    assert declared_only == {("POST", "/api/v2/refunds")}
    assert ("DELETE", "/api/v2/orders/{order_id}") in code_only
    assert ("GET", "/api/v2/orders") not in code_only


def test_base_revision_adds_classified_changes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "t@x"], ["config", "user.name", "t"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True)
    source = 'package main\nimport "net/http"\nfunc main() {\n\tmux := http.NewServeMux()\n'
    (repo / "main.go").write_text(source + '\tmux.HandleFunc("DELETE /items/{id}", h)\n}\n')
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "base"], check=True)
    (repo / "main.go").write_text(source + '\tmux.HandleFunc("GET /items/{id}", h)\n}\n')
    proc = run(str(repo), "--base", "HEAD", "--format", "json", cache=tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    assert [(c["rule"], c["compatibility"]) for c in changes] == [("method-changed", "breaking")]
    table = run(str(repo), "--base", "HEAD", cache=tmp_path / "cache")
    assert "method-changed" in table.stdout and "breaking" in table.stdout
