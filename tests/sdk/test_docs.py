"""Every example of docs/sdk.md runs, as a user would run it: a script in a small project (an
Express orders service with two commits), the model behind a local server speaking the
Anthropic Messages API, and what it prints and changes checked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes.anthropic_server import AnthropicFake, Reply, tool_use

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"

APP_BEFORE = """const express = require("express");
const app = express();
app.use(express.json());

app.get("/orders", (req, res) => res.json([]));
app.post("/orders", (req, res) => res.status(201).json({ quantity: req.body.quantity }));
app.delete("/orders/:id", (req, res) => res.status(204).end());

module.exports = app;
"""
DELETE_ROUTE = 'app.delete("/orders/:id", (req, res) => res.status(204).end());\n'
TOTAL_ROUTE = 'app.get("/orders/total", (req, res) => res.json({ total: eval(req.query.expr) }));\n'


def examples() -> dict[str, str]:
    """The Python blocks of docs/sdk.md, by the title of the section they are in."""
    found: dict[str, str] = {}
    section = ""
    pattern = r"^## ([^\n]+)$|^```python\n(.*?)^```$"
    for match in re.finditer(pattern, DOCS.read_text(), re.M | re.S):
        if match[1]:
            section = match[1].strip()
        else:
            assert section not in found, f"two examples under '{section}': split the section"
            found[section] = match[2]
    return found


def git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=dev", "-c", "user.email=dev@example.com", *args],
        cwd=project,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An orders service: the second commit removes DELETE /orders/{id}, adds an endpoint
    that evaluates its query string, and a migration dropping a column."""
    root = tmp_path / "orders"
    (root / "src").mkdir(parents=True)
    (root / "migrations").mkdir()
    (root / "package.json").write_text(
        '{"name": "orders", "dependencies": {"express": "^4.19.0", "pg": "^8.11.0"}}\n'
    )
    (root / "src" / "app.js").write_text(APP_BEFORE)
    (root / "migrations" / "001_create_orders.sql").write_text(
        "CREATE TABLE orders (id serial PRIMARY KEY, quantity integer, legacy_code text);\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "orders service")
    (root / "src" / "app.js").write_text(APP_BEFORE.replace(DELETE_ROUTE, TOTAL_ROUTE))
    (root / "migrations" / "002_drop_legacy.sql").write_text(
        "ALTER TABLE orders DROP COLUMN legacy_code;\n"
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "order totals")
    return root


@pytest.fixture
def fake() -> Iterator[AnthropicFake]:
    with AnthropicFake() as server:
        yield server


@dataclass
class Example:
    """What the model answers in one example, and what must show afterwards."""

    replies: Callable[[Path], list[Reply]] = lambda project: []
    prints: list[str] = field(default_factory=list)
    check: Callable[[Path, AnthropicFake], None] = lambda project, fake: None


def sent_text(fake: AnthropicFake, request: int) -> str:
    """Everything a request of the run sent in its messages, as one string."""
    return str(fake.requests[request].body["messages"])


def check_only_src_changed(project: Path, fake: AnthropicFake) -> None:
    assert (project / "src" / "validate.js").exists()
    assert not (project / "README.md").exists()
    assert "only files under src/ may change" in sent_text(fake, 1)


def check_push_refused(project: Path, fake: AnthropicFake) -> None:
    assert "The release branch is frozen." in sent_text(fake, 0)
    assert "pushing is done by CI" in sent_text(fake, 1)


def check_resumed(project: Path, fake: AnthropicFake) -> None:
    assert "Summarise the orders module" in sent_text(fake, 1)


def check_store_resumed(project: Path, fake: AnthropicFake) -> None:
    assert "the deploy window is Tuesday" in sent_text(fake, 1)


EXAMPLES: dict[str, Example] = {
    "A one-shot query": Example(
        lambda project: [
            Reply.of("Let me look.", tool_use("Read", {"file_path": str(project / "src/app.js")})),
            Reply.of("An Express API for orders."),
        ],
        ["Let me look.\n[Read]\nAn Express API for orders.", "success: 2 turns"],
    ),
    "Sessions": Example(
        lambda project: [Reply.of("Added /health."), Reply.of("Added its test.")],
        ["Added /health. Added its test. "],
    ),
    "Streaming, with a Python tool": Example(
        lambda project: [
            Reply.of("Checking.", tool_use("mcp__sdk__open_tickets", {"component": "orders"})),
            Reply.of("API-12: POST /orders never checks the quantity (src/app.js:6)."),
        ],
        [
            "[mcp__sdk__open_tickets {'component': 'orders'}]",
            '[-> [\n  {\n    "id": "API-12",',
            "API-12: POST /orders never checks",
            "input tokens",
        ],
    ),
    "Permissions: `can_use_tool`": Example(
        lambda project: [
            Reply.of(
                tool_use(
                    "Write",
                    {"file_path": str(project / "src/validate.js"), "content": "// checks\n"},
                ),
                tool_use("Write", {"file_path": str(project / "README.md"), "content": "x\n"}),
            ),
            Reply.of("Added src/validate.js; README.md was refused."),
        ],
        ["Added src/validate.js; README.md was refused.", "refused: ['", "README.md']"],
        check_only_src_changed,
    ),
    "Hooks in Python": Example(
        lambda project: [
            Reply.of(
                tool_use("Bash", {"command": "git status --short"}),
                tool_use("Bash", {"command": "git push origin main"}),
            ),
            Reply.of("Nothing to commit; pushing is left to CI."),
        ],
        ["Nothing to commit; pushing is left to CI."],
        check_push_refused,
    ),
    "Resume, fork and rewind": Example(
        lambda project: [
            Reply.of("It stores and serves orders."),
            Reply.of("POST /orders creates one."),
        ],
        ["It stores and serves orders.", "POST /orders creates one.\n2 prompts so far"],
        check_resumed,
    ),
    "Session stores": Example(
        lambda project: [Reply.of("Noted."), Reply.of("Tuesday.")],
        ["entries; Tuesday."],
        check_store_resumed,
    ),
    "The evidence engine from Python": Example(
        prints=[
            "stack: ['Express'] ['PostgreSQL']",
            "endpoint: GET /orders/total src/app.js:7",
            "contract: breaking endpoint-removed rest DELETE /orders/{id} removed",
            "migration: migrations/002_drop_legacy.sql ['drop-column']",
            "security: CRITICAL code-injection src/app.js:7",
            "## Backend Agent Report",
        ],
    ),
    "In worker processes": Example(
        lambda project: [Reply.of("Done."), Reply.of("Done.")],
        ["health success", "docs success"],
    ),
}


def test_every_example_in_the_docs_is_run_here() -> None:
    assert set(examples()) == set(EXAMPLES)


@pytest.mark.parametrize("section", list(EXAMPLES))
def test_the_example_runs(
    section: str, project: Path, fake: AnthropicFake, isolated_home: Path
) -> None:
    example = EXAMPLES[section]
    fake.add(*example.replies(project))
    script = project.parent / "example.py"
    script.write_text(examples()[section])
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HOME": str(isolated_home),
        "BACKEND_AGENT_HOME": str(isolated_home / ".backend-agent"),
        "ANTHROPIC_BASE_URL": fake.url,
        "ANTHROPIC_API_KEY": "sk-ant-example",
        "BACKEND_AGENT_MAX_RETRIES": "0",
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for expected in example.prints:
        assert expected in done.stdout, f"{expected!r} not in:\n{done.stdout}\n{done.stderr}"
    assert not fake.replies, "the example did not use every scripted reply"
    example.check(project, fake)
