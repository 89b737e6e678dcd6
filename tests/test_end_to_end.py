"""End to end: the built-in backend-agent, headless, against the fake Anthropic API.

A real ``backend-agent`` process talks through the official SDK to a local server that speaks
the Messages streaming protocol; the scripted model reads a file, edits it, and reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic_server import AnthropicFake, Reply, tool_use

from backend_agent.messages import Usage
from backend_agent.models.catalog import ALIASES, cost_usd, price_of

BEFORE = """def create_order(payload):
    quantity = payload["quantity"]
    return {"status": 201, "quantity": quantity}
"""
OLD = '    quantity = payload["quantity"]\n'
NEW = (
    '    quantity = int(payload.get("quantity", 0))\n'
    "    if quantity < 1:\n"
    '        return {"status": 422, "error": "quantity must be a positive integer"}\n'
)
REPORT = """## Backend Agent Report

### Plan

- Validate `quantity` in `create_order` before creating the order.

### Endpoints/Contracts

- POST /orders now answers 422 for a missing or non-positive quantity.

### Database Impact

- None.

### Tests

- None added in this run.

### Risks & Rollbacks

- Clients sending quantity 0 now get 422; revert the edit to roll back.
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "app" / "orders.py").write_text(BEFORE)
    return root


@pytest.fixture
def fake() -> Iterator[AnthropicFake]:
    with AnthropicFake() as server:
        yield server


def run_backend_agent(project: Path, fake: AnthropicFake, home: Path) -> dict[str, Any]:
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HOME": str(home),
        "BACKEND_AGENT_HOME": str(home / ".backend-agent"),
        "ANTHROPIC_BASE_URL": fake.url,
        "ANTHROPIC_API_KEY": "sk-ant-dummy",
        "BACKEND_AGENT_MAX_RETRIES": "0",
    }
    command = Path(sys.executable).parent / "backend-agent"
    done = subprocess.run(
        [
            str(command),
            "-p",
            "Validate the order quantity in app/orders.py",
            "--output-format",
            "json",
            "--permission-mode",
            "acceptEdits",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_backend_agent_reads_edits_and_reports_through_the_anthropic_api(
    project: Path, fake: AnthropicFake, tmp_path: Path
) -> None:
    target = project / "app" / "orders.py"
    fake.add(
        Reply.of("I'll read the handler first.", tool_use("Read", {"file_path": str(target)})),
        Reply.of(
            "Adding validation.",
            tool_use("Edit", {"file_path": str(target), "old_string": OLD, "new_string": NEW}),
        ),
        Reply.of(REPORT),
    )
    # The catalog prices only Anthropic's own endpoint; a price in settings applies anywhere.
    price = price_of(ALIASES["opus"])
    assert price is not None
    prices = {"input": price.input, "output": price.output, "cacheWrite": price.cache_write}
    settings = {"modelPrices": {ALIASES["opus"]: {**prices, "cacheRead": price.cache_read}}}
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text(json.dumps(settings))

    result = run_backend_agent(project, fake, tmp_path / "home")

    assert target.read_text() == BEFORE.replace(OLD, NEW)
    assert result["type"] == "result"
    assert result["subtype"] == "success"
    assert result["is_error"] is False
    assert result["num_turns"] == 3
    assert "## Backend Agent Report" in result["result"]
    assert "### Risks & Rollbacks" in result["result"]

    reported = fake.usages
    summed = Usage(
        input_tokens=sum(u.input_tokens for u in reported),
        output_tokens=sum(u.output_tokens for u in reported),
        cache_creation_input_tokens=sum(u.cache_creation_input_tokens for u in reported),
        cache_read_input_tokens=sum(u.cache_read_input_tokens for u in reported),
    )
    assert len(reported) == 3
    assert {k: result["usage"][k] for k in summed.as_dict()} == summed.as_dict()
    assert summed.cache_read_input_tokens > 0 and summed.cache_creation_input_tokens > 0
    for usage in reported[1:]:
        fresh = usage.input_tokens + usage.cache_creation_input_tokens
        assert usage.cache_read_input_tokens > fresh
    assert result["total_cost_usd"] > 0
    assert result["total_cost_usd"] == pytest.approx(cost_usd(ALIASES["opus"], summed))

    first, second, third = (r.body for r in fake.requests)
    assert first["model"] == ALIASES["opus"]
    assert {t["name"] for t in first["tools"]} >= {"Read", "Edit", "Bash", "Grep", "Glob"}
    assert "cache_control" in first["tools"][-1] and "cache_control" in first["system"][-1]
    read_result = second["messages"][-1]["content"][0]
    assert read_result["type"] == "tool_result" and "create_order" in str(read_result["content"])
    edit_result = third["messages"][-1]["content"][0]
    assert edit_result["type"] == "tool_result" and not edit_result.get("is_error")
    assert all(r.headers["authorization"] == "Bearer sk-ant-dummy" for r in fake.requests)
