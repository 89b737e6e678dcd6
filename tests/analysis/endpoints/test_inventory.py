"""The inventory engine: the blob-id scan cache on disk and in memory, across revisions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backend_agent.analysis.endpoints import cache as cache_module
from backend_agent.analysis.endpoints import inventory
from backend_agent.analysis.project import Project


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: nothing cached in memory."""
    monkeypatch.setattr(cache_module, "_MEMORY", {})
    monkeypatch.setattr(cache_module, "_RESOLVED", {})


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    for index in range(5):
        (root / f"mod{index}.py").write_text(
            f"from fastapi import APIRouter\nrouter = APIRouter()\n\n"
            f"@router.get('/r{index}')\ndef handler():\n    return {index}\n"
        )
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    return root


def test_cache_lives_in_the_git_directory_and_skips_unchanged_files(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKEND_AGENT_CACHE_DIR", raising=False)
    monkeypatch.setattr(cache_module, "_MEMORY", {})
    scanned: list[str] = []
    extractor = inventory.extractors()[0]
    original = type(extractor).scan

    def counting_scan(self: object, path: str, source: bytes) -> object:
        scanned.append(path)
        return original(self, path, source)  # type: ignore[arg-type]

    monkeypatch.setattr(type(extractor), "scan", counting_scan)
    first = inventory.build_inventory(Project(repo))
    assert len(first.endpoints) == 5 and len(scanned) == 5
    assert list((repo / ".git" / "backend-agent" / "cache").glob("endpoints-python-*.pickle"))

    monkeypatch.setattr(cache_module, "_MEMORY", {})  # a new process: only the disk cache
    monkeypatch.setattr(cache_module, "_RESOLVED", {})
    scanned.clear()
    (repo / "mod3.py").write_text("from fastapi import APIRouter\nrouter = APIRouter()\n")
    head = inventory.build_inventory(Project(repo))
    base = inventory.build_inventory(Project(repo, "HEAD"))
    assert scanned == ["mod3.py"]
    assert len(head.endpoints) == 4 and len(base.endpoints) == 5


def test_corrupt_cache_file_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("BACKEND_AGENT_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(cache_module, "_MEMORY", {})
    cache_dir.mkdir()
    for name in inventory.EXTRACTOR_MODULES:
        extractor = inventory.import_module(f"backend_agent.analysis.endpoints.{name}").extractor
        (cache_dir / f"endpoints-{extractor.name}-v{extractor.version}-f1.pickle").write_bytes(
            b"junk"
        )
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/x')\ndef x():\n    pass\n"
    )
    found = inventory.build_inventory(Project(app))
    assert [(e.method, e.path) for e in found.endpoints] == [("GET", "/x")]


def test_parallel_scan_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_AGENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache_module, "_MEMORY", {})
    app = tmp_path / "app"
    app.mkdir()
    for index in range(12):
        (app / f"m{index}.py").write_text(
            f"from flask import Blueprint\nbp = Blueprint('b{index}', __name__)\n\n"
            f"@bp.route('/p{index}', methods=['POST'])\ndef view():\n    pass\n"
        )
    monkeypatch.setattr(inventory, "PARALLEL_THRESHOLD", 100)
    parallel = inventory.build_inventory(Project(app))
    monkeypatch.setattr(cache_module, "_MEMORY", {})
    monkeypatch.setattr(cache_module, "_RESOLVED", {})
    monkeypatch.setenv("BACKEND_AGENT_CACHE_DIR", str(tmp_path / "cache2"))
    monkeypatch.setattr(inventory, "PARALLEL_THRESHOLD", 10**12)
    assert inventory.build_inventory(Project(app)) == parallel
    assert len(parallel.endpoints) == 12


def test_unchanged_files_are_not_resolved_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKEND_AGENT_CACHE_DIR", str(tmp_path / "cache"))
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/a')\ndef a():\n    pass\n"
    )
    extractor = inventory.extractors()[0]
    resolved: list[int] = []
    original = type(extractor).resolve

    def counting_resolve(self: object, facts: object, project: Project) -> object:
        resolved.append(1)
        return original(self, facts, project)  # type: ignore[arg-type]

    monkeypatch.setattr(type(extractor), "resolve", counting_resolve)
    first = inventory.build_inventory(Project(app))
    monkeypatch.setattr(cache_module, "_RESOLVED", {})  # from disk, as in a new process
    assert inventory.build_inventory(Project(app)) == first
    assert len(resolved) == 1
    (app / "main.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/b')\ndef b():\n    pass\n"
    )
    changed = inventory.build_inventory(Project(app))
    assert len(resolved) == 2 and [e.path for e in changed.endpoints] == ["/b"]
