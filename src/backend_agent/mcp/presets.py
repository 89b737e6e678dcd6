"""Ready-made ``.mcp.json`` entries for the five servers the Backend Agent's definition names:
filesystem, git, github, brave (documentation search) and puppeteer (API testing)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend_agent.errors import UserError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass(frozen=True)
class Preset:
    """One server: its package, and how its entry is built for a project."""

    name: str
    package: str
    needs: str  # what the user must provide, for help and docs
    build: Callable[[Path, list[str]], dict[str, Any]]

    def entry(self, project: Path, command: Sequence[str] | None = None) -> dict[str, Any]:
        """The ``.mcp.json`` entry; ``command`` replaces the default launcher (``npx -y PKG``
        for npm servers), e.g. with an installed binary."""
        return self.build(project.resolve(), list(command or ["npx", "-y", self.package]))


def _stdio(
    command: list[str], args: Sequence[str] = (), env: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"command": command[0], "args": [*command[1:], *args], "env": env or {}}


def _filesystem(project: Path, command: list[str]) -> dict[str, Any]:
    return _stdio(command, [str(project)])


def _git(project: Path, command: list[str]) -> dict[str, Any]:
    return _stdio(command, ["--repository", str(project)])


def git_command() -> list[str]:
    """How to start mcp-server-git here: this Python when it has the package, else ``uvx``."""
    if importlib.util.find_spec("mcp_server_git") is not None:
        return [sys.executable, "-m", "mcp_server_git"]
    if shutil.which("uvx"):
        return ["uvx", "mcp-server-git"]
    raise UserError(
        "the git preset needs mcp-server-git: install it with `pip install mcp-server-git` "
        "(or install uv, which runs it with uvx)"
    )


def _github(project: Path, command: list[str]) -> dict[str, Any]:
    return _stdio(command, env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"})


def _brave(project: Path, command: list[str]) -> dict[str, Any]:
    return _stdio(command, env={"BRAVE_API_KEY": "${BRAVE_API_KEY}"})


def find_chromium() -> str | None:
    """The first installed Chromium or Chrome on PATH."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _puppeteer(project: Path, command: list[str]) -> dict[str, Any]:
    browser = find_chromium()
    if browser is None:
        raise UserError(
            "the puppeteer preset needs Chromium: install it (Debian: apt-get install chromium) "
            f"so that one of {', '.join(CHROMIUM_NAMES)} is on PATH"
        )
    launch: dict[str, Any] = {"executablePath": browser, "headless": True}
    env = {"PUPPETEER_SKIP_DOWNLOAD": "1"}
    if os.geteuid() == 0:
        # Chromium refuses to run as root with its sandbox; the server allows --no-sandbox
        # only with ALLOW_DANGEROUS.
        launch["args"] = ["--no-sandbox"]
        env["ALLOW_DANGEROUS"] = "true"
    env["PUPPETEER_LAUNCH_OPTIONS"] = json.dumps(launch)
    return _stdio(command, env=env)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "filesystem",
            "@modelcontextprotocol/server-filesystem",
            "Node.js (npx); serves the project directory",
            _filesystem,
        ),
        Preset(
            "git",
            "mcp-server-git",
            "the mcp-server-git Python package (or uvx); serves the project's repository",
            _git,
        ),
        Preset(
            "github",
            "@modelcontextprotocol/server-github",
            "Node.js (npx) and GITHUB_PERSONAL_ACCESS_TOKEN in the environment",
            _github,
        ),
        Preset(
            "brave",
            "@modelcontextprotocol/server-brave-search",
            "Node.js (npx) and BRAVE_API_KEY in the environment",
            _brave,
        ),
        Preset(
            "puppeteer",
            "@modelcontextprotocol/server-puppeteer",
            "Node.js (npx) and an installed Chromium (never downloads a browser)",
            _puppeteer,
        ),
    )
}


def preset_entry(name: str, project: Path) -> dict[str, Any]:
    """The entry ``mcp add --preset NAME`` writes; UserError for an unknown preset."""
    preset = PRESETS.get(name)
    if preset is None:
        raise UserError(f"unknown preset '{name}'; choose one of {', '.join(PRESETS)}")
    command = git_command() if name == "git" else None
    return preset.entry(project, command)
