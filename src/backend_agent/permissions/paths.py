"""Where the agent may work: the working directories, protected paths, and path resolution.

Every path is resolved (``~``, ``..``, symlinks) before it is compared, so a symlink inside the
workspace that points outside it counts as outside.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Inside every working directory: version control, agent configuration, MCP server commands.
PROTECTED_NAMES = (".git", ".claude", ".mcp.json")
# Device files that commands legitimately name (``> /dev/null``); never a secret or a target.
HARMLESS_DEVICES = frozenset(
    {"/dev/null", "/dev/zero", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/tty"}
)


def resolve(path: str | Path, base: str | Path) -> Path:
    """``path`` made absolute against ``base``, with ``~``, ``..`` and symlinks resolved."""
    expanded = os.path.expanduser(str(path))
    return Path(os.path.realpath(os.path.join(str(base), expanded)))


@dataclass(frozen=True)
class Workspace:
    """The resolved working directories (cwd first) and the extra protected files."""

    directories: tuple[Path, ...]
    protected_files: frozenset[Path] = field(default_factory=frozenset)

    @classmethod
    def create(
        cls, cwd: Path, extra: Iterable[Path] = (), settings_files: Iterable[Path] = ()
    ) -> Workspace:
        directories: list[Path] = []
        for directory in (cwd, *extra):
            resolved = resolve(directory, cwd)
            if resolved not in directories:
                directories.append(resolved)
        protected = frozenset(resolve(path, cwd) for path in settings_files)
        return cls(tuple(directories), protected)

    @property
    def cwd(self) -> Path:
        return self.directories[0]

    def contains(self, path: Path) -> bool:
        """Whether the resolved ``path`` is inside one of the working directories."""
        return any(path.is_relative_to(directory) for directory in self.directories)

    def is_protected(self, path: Path) -> bool:
        """Under a ``.git``/``.claude`` directory or ``.mcp.json`` of the workspace, ``~/.claude``,
        or one of the settings files in use."""
        if path in self.protected_files:
            return True
        user_config = Path(os.path.realpath(Path.home() / ".claude"))
        if path.is_relative_to(user_config):
            return True
        for directory in self.directories:
            if not path.is_relative_to(directory):
                continue
            if any(part in PROTECTED_NAMES for part in path.relative_to(directory).parts):
                return True
        return False
