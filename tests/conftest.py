"""Shared test configuration: no test reads or writes the real home or cache directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The fixture repositories hold their own (sample) tests: they are data, not this suite's tests.
collect_ignore_glob = ["fixtures/*"]

# Build caches of toolchains the tests run (go test, npm): shared by the whole test session,
# so they stay warm, but never the developer's own.
TOOL_CACHES = {"GOCACHE": "go-build", "GOMODCACHE": "go-mod", "npm_config_cache": "npm"}


@pytest.fixture(scope="session")
def tool_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tool-caches")


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory,
    tool_cache_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """HOME, BACKEND_AGENT_HOME and the cache directory in temp dirs, for every test: no
    memory file, setting, session or cache of the developer leaks in, nothing leaks out.
    The home is outside the test's tmp_path, which tests often use as the project."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("BACKEND_AGENT_HOME", str(home / ".backend-agent"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("BACKEND_AGENT_CACHE_DIR", raising=False)
    for variable, name in TOOL_CACHES.items():
        if variable not in os.environ:
            monkeypatch.setenv(variable, str(tool_cache_root / name))
    return home
