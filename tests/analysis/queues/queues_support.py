"""Helpers of the queue analysis tests: fixture inventories, lookups, git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.inventory import queue_inventory

FIXTURES = Path(__file__).parents[2] / "fixtures" / "queues"


def inventory_of(root: Path) -> dict[str, Any]:
    return queue_inventory(Project(root)).as_dict()


def expected(language: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / language / "expected.json").read_text())
    return loaded


def channel(inventory: dict[str, Any], broker: str, name: str) -> dict[str, Any]:
    found = [c for c in inventory["channels"] if (c["broker"], c["name"]) == (broker, name)]
    assert found, f"no {broker} channel {name!r} in {[c['name'] for c in inventory['channels']]}"
    return found[0]


def job(inventory: dict[str, Any], framework: str, name: str) -> dict[str, Any]:
    found = [j for j in inventory["jobs"] if (j["framework"], j["name"]) == (framework, name)]
    assert found, f"no {framework} job {name!r} in {[j['name'] for j in inventory['jobs']]}"
    return found[0]


def sites(entries: list[dict[str, Any]]) -> list[str]:
    """``file:line`` of producers, consumers or enqueue sites."""
    return [f"{e['file']}:{e['line']}" for e in entries]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def init_repo(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")


def commit_all(root: Path, message: str = "change") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
