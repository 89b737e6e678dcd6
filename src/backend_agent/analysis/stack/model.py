"""What a repository is built with, as data: its components, their facts, and test runners."""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend_agent.analysis.stack.catalog import CATEGORIES


@dataclass(frozen=True)
class TestRunner:
    """A test runner and the command that runs it, from the component's directory."""

    name: str  # pytest, jest, vitest, mocha, tap, ava, go test, rspec, minitest, unittest
    argv: tuple[str, ...]
    directory: str  # relative to the repository root, "." for the root
    evidence: str

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "command": self.command,
            "directory": self.directory,
            "evidence": self.evidence,
        }


@dataclass
class Component:
    """One service or package of the repository: a directory with at least one manifest."""

    path: str  # relative to the root, "." for the root
    manifests: list[str] = field(default_factory=list)
    facts: dict[str, dict[str, str]] = field(default_factory=dict)  # category: name: evidence
    source_files: Counter[str] = field(default_factory=Counter)  # language: files
    test_runners: list[TestRunner] = field(default_factory=list)
    workspaces: list[str] = field(default_factory=list)
    scripts: dict[str, str] = field(default_factory=dict)  # package.json scripts

    def add(self, category: str, name: str, evidence: str) -> None:
        """Record a fact; the first evidence found for it is kept."""
        self.facts.setdefault(category, {}).setdefault(name, evidence)

    def names(self, category: str) -> list[str]:
        return sorted(self.facts.get(category, {}))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "manifests": self.manifests}
        for category in CATEGORIES:
            found = self.facts.get(category, {})
            data[category] = [{"name": k, "evidence": found[k]} for k in sorted(found)]
        data["test_runners"] = [runner.as_dict() for runner in self.test_runners]
        data["workspaces"] = self.workspaces
        return data


@dataclass
class Stack:
    """The whole repository: its components, and the union of what they use."""

    root: Path
    components: list[Component]

    def names(self, category: str) -> list[str]:
        return sorted({name for c in self.components for name in c.names(category)})

    @property
    def languages(self) -> list[str]:
        return self.names("languages")

    @property
    def frameworks(self) -> list[str]:
        return self.names("frameworks")

    @property
    def package_managers(self) -> list[str]:
        return self.names("package_managers")

    @property
    def databases(self) -> list[str]:
        return self.names("databases")

    @property
    def orms(self) -> list[str]:
        return self.names("orms")

    @property
    def migration_tools(self) -> list[str]:
        return self.names("migration_tools")

    @property
    def queues(self) -> list[str]:
        return self.names("queues")

    @property
    def job_frameworks(self) -> list[str]:
        return self.names("job_frameworks")

    @property
    def test_runners(self) -> list[TestRunner]:
        return [runner for c in self.components for runner in c.test_runners]

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"root": str(self.root)}
        for category in CATEGORIES:
            data[category] = self.names(category)
        data["test_runners"] = [runner.as_dict() for runner in self.test_runners]
        data["components"] = [c.as_dict() for c in self.components]
        return data
