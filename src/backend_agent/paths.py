"""Where backend-agent keeps its own files: the one module that knows these paths.

Everything lives under the home directory, ``$BACKEND_AGENT_HOME`` (default
``~/.backend-agent``): session transcripts per project, checkpoints, and the prompt history.
Caches go to ``$XDG_CACHE_HOME/backend-agent`` (default ``~/.cache/backend-agent``).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

HOME_VARIABLE = "BACKEND_AGENT_HOME"
_MAX_SLUG_CHARS = 180
_UNSAFE_SLUG_CHARS = re.compile(r"[^A-Za-z0-9]")


def home() -> Path:
    """backend-agent's home: ``$BACKEND_AGENT_HOME`` or ``~/.backend-agent``."""
    configured = os.environ.get(HOME_VARIABLE)
    return Path(configured).expanduser() if configured else Path.home() / ".backend-agent"


def projects_dir() -> Path:
    """The parent of every project's session directory."""
    return home() / "projects"


def project_slug(cwd: Path) -> str:
    """A directory name for ``cwd``: every character but letters and digits becomes ``-``
    (``/srv/my app`` -> ``-srv-my-app``); very long paths keep their end and a hash."""
    text = str(Path(os.path.abspath(cwd)))
    slug = _UNSAFE_SLUG_CHARS.sub("-", text)
    if len(slug) <= _MAX_SLUG_CHARS:
        return slug
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{slug[-(_MAX_SLUG_CHARS - 13) :]}-{digest}"


def project_dir(cwd: Path) -> Path:
    """Where the sessions of a working directory live: ``projects/<slug of cwd>``."""
    return projects_dir() / project_slug(cwd)


def session_file(cwd: Path, session_id: str) -> Path:
    """A session's JSONL transcript."""
    return project_dir(cwd) / f"{session_id}.jsonl"


def checkpoints_dir(cwd: Path) -> Path:
    """The checkpoint store of a working directory, shared by its sessions."""
    return project_dir(cwd) / "checkpoints"


def history_file() -> Path:
    """The interactive prompt history."""
    return home() / "history"


def user_memory_file() -> Path:
    """The user's own instructions for every agent run (``AGENTS.md`` in the home)."""
    return home() / "AGENTS.md"


def cache_dir() -> Path:
    """backend-agent's user cache: ``$XDG_CACHE_HOME/backend-agent`` or ``~/.cache/...``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "backend-agent"
