"""The OS sandbox for Bash: every command runs under bubblewrap with a read-only view of the
machine, the working directories writable, a private /tmp, no network, and secrets hidden.

Only the user's settings or flags change this; nothing in a tool call can.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from backend_agent.permissions.settings import SandboxSettings
from backend_agent.tools.base import CommandLauncher, PlainLauncher, SandboxUnavailable

# Credentials commonly kept in the home directory, and the system's password hashes.
DEFAULT_HIDDEN_PATHS = (
    "~/.ssh",
    "~/.aws",
    "~/.gnupg",
    "~/.azure",
    "~/.kube",
    "~/.docker",
    "~/.config/gcloud",
    "~/.config/gh",
    "~/.netrc",
    "~/.git-credentials",
    "~/.npmrc",
    "~/.pypirc",
    "~/.claude",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/ssh",
)
# Inside each working directory, kept read-only: what would run code or grant permissions later.
READ_ONLY_INSIDE = (".git/hooks", ".git/config", ".claude", ".mcp.json")
# Environment variables that look like credentials are removed from sandboxed commands.
CREDENTIAL_VARIABLE = re.compile(
    r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)|^(AWS|AZURE)_|^SSH_AUTH_SOCK$",
    re.IGNORECASE,
)
# Runtime directories full of service sockets (a symlinked /var/run is covered by /run).
_RUNTIME_DIRS = tuple(
    run for run in ("/run", "/var/run") if os.path.isdir(run) and not os.path.islink(run)
)
# Tool caches move to the private /tmp, since the home directory is read-only.
CACHE_VARIABLES = {
    "XDG_CACHE_HOME": "/tmp/.cache",
    "GOCACHE": "/tmp/.cache/go-build",
    "npm_config_cache": "/tmp/.npm",
}
_BASE_FLAGS = (
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
)  # fmt: skip
_ISOLATION_FLAGS = (
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
)


@dataclass(frozen=True)
class BubblewrapLauncher:
    """Builds the ``bwrap`` command line that runs one shell command inside the sandbox."""

    writable: tuple[Path, ...]
    network: bool = False
    hidden: tuple[Path, ...] = ()
    bwrap: str = "bwrap"

    def argv(self, command: str, cwd: str) -> list[str]:
        args = [self.bwrap, *_BASE_FLAGS]
        if not self.network:
            # Unix sockets ignore network namespaces: hide the usual home of service sockets
            # (databases, Docker, D-Bus, SSH agents).
            args += [arg for run in _RUNTIME_DIRS for arg in ("--tmpfs", run)]
        for directory in self.writable:
            if directory.exists():
                args += ["--bind", str(directory), str(directory)]
        for directory in self.writable:
            args += _read_only_inside(directory)
        for path in self.hidden:
            if path.is_dir():
                args += ["--tmpfs", str(path)]
            elif path.exists():
                args += ["--ro-bind", "/dev/null", str(path)]
        args += _ISOLATION_FLAGS
        if not self.network:
            args.append("--unshare-net")
        args += [
            arg
            for name in os.environ
            if CREDENTIAL_VARIABLE.search(name)
            for arg in ("--unsetenv", name)
        ]
        for name, value in CACHE_VARIABLES.items():
            args += ["--setenv", name, value]
        return [*args, "--chdir", cwd, "--", "bash", "-c", command]


def _read_only_inside(directory: Path) -> list[str]:
    """Mounts that keep git hooks/config and agent settings read-only in ``directory``."""
    args: list[str] = []
    for name in READ_ONLY_INSIDE:
        path = directory / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
        elif name in (".git/hooks", ".claude") and path.parent.is_dir():
            # An empty read-only directory, so a command cannot create hooks or settings there.
            args += ["--tmpfs", str(path), "--remount-ro", str(path)]
    return args


class RefusingLauncher:
    """Used when the sandbox is required but cannot run: every shell command is refused."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def argv(self, command: str, cwd: str) -> list[str]:
        raise SandboxUnavailable(self.reason)


@functools.cache
def sandbox_problem(bwrap: str | None) -> str | None:
    """Why bubblewrap cannot run here (None when it can); probed once per process."""
    if bwrap is None:
        return "bwrap was not found (install the bubblewrap package)"
    probe = [bwrap, *_BASE_FLAGS, *_ISOLATION_FLAGS, "--unshare-net", "--", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not be started ({error})"
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no message"
        return f"bwrap cannot create a sandbox here: {detail}"
    return None


class SandboxLauncher:
    """The launcher a run gives Bash: decides on first use (probing bwrap once) and warns once.

    Enabled and working: bubblewrap. Otherwise ``policy`` decides: ``required`` refuses every
    command with SandboxUnavailable, ``auto`` runs it unsandboxed.
    """

    def __init__(
        self,
        config: SandboxSettings,
        working_dirs: Iterable[Path],
        warn: Callable[[str], None],
    ) -> None:
        self.config = config
        self.working_dirs = tuple(working_dirs)
        self.warn = warn

    @functools.cached_property
    def chosen(self) -> CommandLauncher:
        if not self.config.enabled:
            return PlainLauncher()
        bwrap = shutil.which("bwrap")
        problem = sandbox_problem(bwrap)
        if problem is None and bwrap is not None:
            hidden = tuple(Path(os.path.expanduser(p)) for p in DEFAULT_HIDDEN_PATHS)
            return BubblewrapLauncher(
                writable=(*self.working_dirs, *self.config.writable_paths),
                network=self.config.network,
                hidden=(*hidden, *self.config.hidden_paths),
                bwrap=bwrap,
            )
        if self.config.policy == "required":
            message = (
                f"the Bash sandbox is required but {problem}; shell commands are refused "
                "(install bubblewrap, or set sandbox.policy to auto to run them unsandboxed)"
            )
            self.warn(message)
            return RefusingLauncher(f"Shell commands are refused: {message}")
        self.warn(f"shell commands run WITHOUT a sandbox: {problem}")
        return PlainLauncher()

    @property
    def active(self) -> bool:
        """Whether commands really run inside bubblewrap."""
        return isinstance(self.chosen, BubblewrapLauncher)

    def argv(self, command: str, cwd: str) -> list[str]:
        return self.chosen.argv(command, cwd)
