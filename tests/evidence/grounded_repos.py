"""Fixture repositories for the evidence tests (Python/FastAPI+Alembic, JavaScript/Express+knex,
Go/chi+golang-migrate), each copied into a git repo, and the change the scripted model makes
in each: a new endpoint, a migration dropping ``users.legacy_name``, optionally a test file."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "grounded"
GIT_IDENTITY = ("-c", "user.email=tests@example.com", "-c", "user.name=tests")


@dataclass(frozen=True)
class Language:
    """One fixture and its change, with how a report names the new endpoint."""

    name: str
    route_file: str
    route_anchor: str  # the line the new route goes after
    route_code: str
    route: str  # the new endpoint as the report writes it
    migration: str
    migration_code: str
    test_file: str
    test_code: str


LANGUAGES = {
    "python": Language(
        "python",
        "app/main.py",
        '    return {"id": user_id}\n',
        '\n\n@app.post("/users/{user_id}/avatar")\n'
        "def upload_avatar(user_id: int) -> dict[str, bool]:\n"
        '    return {"ok": True}\n',
        "POST /users/{user_id}/avatar",
        "migrations/versions/0002_drop_legacy_name.py",
        '"""drop users.legacy_name"""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        'revision = "0002"\ndown_revision = "0001"\n\n\ndef upgrade() -> None:\n'
        '    op.drop_column("users", "legacy_name")\n\n\ndef downgrade() -> None:\n'
        '    op.add_column("users", sa.Column("legacy_name", sa.String(80)))\n',
        "tests/test_avatar.py",
        "from app.main import upload_avatar\n\n\ndef test_upload_avatar() -> None:\n"
        '    assert upload_avatar(1) == {"ok": True}\n',
    ),
    "javascript": Language(
        "javascript",
        "app.js",
        "  res.json({ id: Number(req.params.id) });\n});\n",
        "\napp.post('/users/:id/avatar', (req, res) => {\n"
        "  res.status(201).json({ ok: true });\n});\n",
        "POST /users/:id/avatar",
        "migrations/20240102000000_drop_legacy_name.js",
        "exports.up = function (knex) {\n"
        "  return knex.schema.alterTable('users', (table) => {\n"
        "    table.dropColumn('legacy_name');\n  });\n};\n\n"
        "exports.down = function (knex) {\n"
        "  return knex.schema.alterTable('users', (table) => {\n"
        "    table.string('legacy_name');\n  });\n};\n",
        "test/avatar.test.js",
        "const assert = require('assert');\nconst app = require('../app');\n\n"
        "describe('avatar', () => {\n  it('has the route', () => {\n"
        "    assert.ok(app);\n  });\n});\n",
    ),
    "go": Language(
        "go",
        "main.go",
        '\tr.Get("/users/{id}", getUser)\n',
        '\tr.Post("/users/{id}/avatar", uploadAvatar)\n',
        "POST /users/{id}/avatar",
        "migrations/000002_drop_legacy_name.up.sql",
        "ALTER TABLE users DROP COLUMN legacy_name;\n",
        "avatar_test.go",
        'package main\n\nimport "testing"\n\nfunc TestAvatar(t *testing.T) {}\n',
    ),
}
GO_HANDLER = (
    "\nfunc uploadAvatar(w http.ResponseWriter, r *http.Request) {\n"
    "\tw.WriteHeader(http.StatusCreated)\n}\n"
)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout


def make_repo(language: str, root: Path) -> Path:
    """The fixture of ``language`` as a git repository with one commit, at ``root``."""
    shutil.copytree(FIXTURES / language, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def change_calls(language: Language, *, with_test: bool = False) -> list[dict[str, Any]]:
    """The scripted model's tool calls that make the change (after reading the route file)."""
    new_code = language.route_anchor + language.route_code
    calls: list[dict[str, Any]] = [
        {
            "name": "Edit",
            "input": {
                "file_path": language.route_file,
                "old_string": language.route_anchor,
                "new_string": new_code,
            },
        },
        {
            "name": "Write",
            "input": {"file_path": language.migration, "content": language.migration_code},
        },
    ]
    if language.name == "go":
        calls.append(
            {
                "name": "Edit",
                "input": {
                    "file_path": "main.go",
                    "old_string": "func main() {",
                    "new_string": GO_HANDLER.lstrip("\n") + "\nfunc main() {",
                },
            }
        )
    if with_test:
        calls.append(
            {
                "name": "Write",
                "input": {"file_path": language.test_file, "content": language.test_code},
            }
        )
    return calls


def report(
    language: Language,
    *,
    database: str | None = None,
    tests: str = "- None added in this change.",
    endpoints: str | None = None,
) -> str:
    """A Backend Agent Report of the change; the defaults name the endpoint and say the
    database is untouched (the report that forgets the migration)."""
    return (
        "## Backend Agent Report\n\n"
        "### Plan\n\n- Add an avatar upload endpoint and drop the unused legacy column.\n\n"
        "### Endpoints/Contracts\n\n"
        f"{endpoints or f'- `{language.route}` (new): stores the avatar, answers 201.'}\n\n"
        f"### Database Impact\n\n{database or '- None.'}\n\n"
        f"### Tests\n\n{tests}\n\n"
        "### Risks & Rollbacks\n\n"
        f"- `{language.route}` has no authentication yet: add it before release.\n"
    )


ACCURATE_DATABASE = (
    "- Migration drops column `users.legacy_name` (data loss): back up the column first; "
    "roll back with the down migration and restore from the backup."
)
