"""Robust input: an ignored directory named explicitly is analysed as its own root, binary and
non-UTF-8 files are skipped with one note, and a config file that does not parse is named
with its line while the analysis goes on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backend_agent.analysis import Project, build_report, detect_stack, render
from backend_agent.analysis.database import analyze_migrations
from backend_agent.analysis.endpoints.openapi import read_specs

APP = (
    "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
    '@app.post("/orders")\ndef create_order():\n    return "", 201\n'
)
MIGRATION = "ALTER TABLE orders DROP COLUMN legacy;\n"


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend_agent", *args], capture_output=True, text=True, timeout=300
    )


# --- a directory an enclosing repository ignores -------------------------------------------


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            ".gitignore": "generated/\nscratch/\n",
            "README.md": "top\n",
            "generated/service/app.py": APP,
            "generated/service/requirements.txt": "flask\n",
            "generated/service/migrations/002_drop.sql": MIGRATION,
            "scratch/deep/inner/app.py": APP,
        },
    )
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "top")
    return tmp_path


def test_an_ignored_directory_named_explicitly_is_its_own_root(monorepo: Path) -> None:
    service = Project(monorepo / "generated" / "service")
    assert not service.is_git
    assert service.files() == ["app.py", "migrations/002_drop.sql", "requirements.txt"]
    inner = Project(monorepo / "scratch" / "deep")  # ignored through a parent folder
    assert inner.files() == ["inner/app.py"]
    assert Project(monorepo).files() == [".gitignore", "README.md"]  # the repository itself


def test_the_report_on_an_ignored_directory_finds_its_evidence(monorepo: Path) -> None:
    result = cli("report", str(monorepo / "generated" / "service"), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(e["method"], e["path"]) for e in data["endpoints"]["endpoints"]] == [
        ("POST", "/orders")
    ]
    assert [m["file"] for m in data["database"]["migrations"]] == ["migrations/002_drop.sql"]
    refused = cli("report", str(monorepo / "generated" / "service"), "--base", "HEAD")
    assert refused.returncode == 2 and "needs a git repository" in refused.stderr


# --- binary and non-UTF-8 files ------------------------------------------------------------


def test_binary_and_non_utf8_files_are_skipped_with_one_note(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": APP,
            "migrations/001_init.sql": "CREATE TABLE orders (id int);\n",
            "migrations/002_dump.sql": b"PGDMP\x00\x01\x02\xff\xfe binary dump",
            "migrations/003_latin1.sql": "ALTER TABLE orders ADD COLUMN caf\xe9 text;\n".encode(
                "latin-1"
            ),
            "config/settings.py": "# R\xe9glages\nDEBUG = False\n".encode("latin-1"),
        },
    )
    project = Project(tmp_path)
    report = build_report(project)
    assert [m.file for m in report.database.migrations] == ["migrations/001_init.sql"]
    assert report.notes == [
        "skipped 3 binary or non-UTF-8 files: config/settings.py, migrations/002_dump.sql, "
        "migrations/003_latin1.sql"
    ]
    markdown = render(report, "md")
    assert "- Not read: skipped 3 binary or non-UTF-8 files" in markdown
    assert "PGDMP" not in markdown and "\ufffd" not in markdown
    result = cli("db", "migrations", str(tmp_path))
    assert result.returncode == 0
    assert result.stderr.count("backend-agent: not read: skipped 3 binary") == 1


# --- configuration files that do not parse -------------------------------------------------

BROKEN = {
    "web/package.json": '{\n  "name": "web",\n  "dependencies": {"express": "4"\n}\n',
    "api/pyproject.toml": '[project]\nname = "api"\ndependencies = ["fastapi"\n',
    "lib/setup.cfg": "[metadata]\nname = lib\n  this line continues nothing\n[options\n",
    "svc/go.mod": "module example.com/svc\n\ngo 1.22\n\nrequier github.com/gin-gonic/gin v1.9.1\n",
    "shop/Gemfile": 'source "https://rubygems.org"\n\ngem "rails"\ngem "pg", \n  group: [:dev\n',
    "shop/config/database.yml": (
        "default: &default\n  adapter: <%= ENV.fetch('DB', 'postgresql') %>\n"
        "  pool: 5\n development:\n  database: shop\n"
    ),
    "shop/db/migrate/20240101000000_x.rb": (
        "class X < ActiveRecord::Migration[7.1]\n  def change\n    add_column :a, :b, :text\n"
        "  end\nend\n"
    ),
    "prisma/schema.prisma": (
        'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n\n'
        "model User {\n  id Int @id\n"
    ),
    "docs/openapi.yaml": "openapi: 3.0.0\ninfo:\n  title: x\n  version: 1\npaths:\n  /a: [\n",
    "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n   ports: [5432]\n",
}
EXPECTED = [
    "docker-compose.yml:4: invalid YAML",
    "lib/setup.cfg:4: invalid INI",
    "shop/Gemfile:5: invalid Ruby: syntax error",
    "svc/go.mod:5: invalid go.mod: unknown directive 'requier'",
    "web/package.json:5: invalid JSON",
    "api/pyproject.toml:3: invalid TOML",
    "prisma/schema.prisma:1: invalid Prisma schema: block opened here is never closed",
]


def test_each_config_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    write(tmp_path, BROKEN)
    project = Project(tmp_path)
    stack = detect_stack(project)  # goes on: the other manifests are still read
    assert "Go" in stack.languages and "Ruby" in stack.languages
    analyze_migrations(project)  # reads shop/config/database.yml for the dialect
    read_specs(project)
    notes = [str(note) for note in project.notes]
    for expected in [*EXPECTED, "shop/config/database.yml:4: invalid YAML", "docs/openapi.yaml:7"]:
        assert any(note.startswith(expected) for note in notes), (expected, notes)
    assert len(notes) == len(EXPECTED) + 2  # one note per broken file, nothing for good ones


def test_the_commands_print_config_errors_on_stderr(tmp_path: Path) -> None:
    write(tmp_path, BROKEN)
    result = cli("stack", str(tmp_path))
    assert result.returncode == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("backend-agent: ")]
    for expected in EXPECTED:
        assert f"backend-agent: not read: {expected}" in "\n".join(lines), expected
    report = json.loads(cli("report", str(tmp_path), "--format", "json").stdout)
    assert any(note.startswith("web/package.json:5: invalid JSON") for note in report["notes"])
