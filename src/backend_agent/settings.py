"""The one reader of settings files in Claude Code's format; every consumer gets what it read.

Sources, lowest precedence first: ``~/.claude/settings.json`` (user), ``.claude/settings.json``
(project), ``.claude/settings.local.json`` (local), then each ``--settings`` FILE or JSON.
Each source is read once and kept as parsed JSON; the permissions package validates and merges
its sections, the model choice takes the ``model`` key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from backend_agent.errors import UserError

SettingsScope = Literal["user", "project", "local"]
ALL_SCOPES: tuple[SettingsScope, ...] = ("user", "project", "local")


@dataclass(frozen=True)
class SettingsSource:
    """One settings file or inline JSON: where it came from and what it holds."""

    label: str  # the file's path, or "--settings" for inline JSON (named in error messages)
    root: Path  # relative paths in its rules resolve against this directory
    data: dict[str, Any]


@dataclass(frozen=True)
class SettingsFiles:
    """Every settings source of a run, in precedence order (last wins for single values)."""

    cwd: Path
    sources: tuple[SettingsSource, ...] = ()

    @property
    def local_file(self) -> Path:
        """Where "yes, and don't ask again" saves rules."""
        return settings_file(self.cwd, "local")

    @property
    def files(self) -> list[Path]:
        """The files read (inline JSON left out), e.g. for protecting them from edits."""
        return [Path(s.label) for s in self.sources if s.label != "--settings"]

    @property
    def model(self) -> str | None:
        """The ``model`` key of the most specific source that sets it; None when none does."""
        chosen: str | None = None
        for source in self.sources:
            value = source.data.get("model")
            if value is None:
                continue
            if not isinstance(value, str):
                raise UserError(
                    f"{source.label}: model: expected a model name such as sonnet or openai:gpt-5"
                )
            chosen = value.strip() or chosen
        return chosen


def settings_file(cwd: Path, scope: SettingsScope) -> Path:
    """The settings file of ``scope`` for a run in ``cwd`` (it may not exist yet)."""
    if scope == "user":
        return Path.home() / ".claude" / "settings.json"
    name = "settings.json" if scope == "project" else "settings.local.json"
    return cwd / ".claude" / name


def load_settings_files(
    cwd: Path, extra: Sequence[str] = (), scopes: Sequence[SettingsScope] = ALL_SCOPES
) -> SettingsFiles:
    """Read the settings of ``scopes`` for a run in ``cwd``, then each ``--settings`` value."""
    cwd = Path(os.path.realpath(cwd))
    sources = [
        _read_file(path, scope_root(cwd, scope))
        for scope in ALL_SCOPES
        if scope in scopes and (path := settings_file(cwd, scope)).is_file()
    ]
    for value in extra:
        if value.lstrip().startswith("{"):
            sources.append(SettingsSource("--settings", cwd, json_object(value, "--settings")))
            continue
        path = Path(os.path.realpath(cwd / os.path.expanduser(value)))
        if not path.is_file():
            raise UserError(f"--settings: no such file {value}; pass a settings file or JSON")
        sources.append(_read_file(path, path.parent))
    return SettingsFiles(cwd, tuple(sources))


def scope_root(cwd: Path, scope: SettingsScope) -> Path:
    """The directory that ``/path`` rules in a settings file of ``scope`` are anchored at."""
    return Path.home() if scope == "user" else cwd


def _read_file(path: Path, root: Path) -> SettingsSource:
    return SettingsSource(str(path), root, read_settings_object(path))


def read_settings_object(path: Path) -> dict[str, Any]:
    """The JSON object of a settings file; UserError naming the file when it is not one."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UserError(f"{path}: cannot read settings ({error.strerror or error})") from error
    return json_object(raw, str(path))


def json_object(raw: bytes | str, label: str, error: type[UserError] = UserError) -> dict[str, Any]:
    """The JSON object in a configuration file's bytes (settings, ``.mcp.json``) or in inline
    JSON (``--settings``, ``--agents``): ``error`` locating the mistake otherwise, as
    ``label:line:column: invalid JSON: what`` or ``label:line: not UTF-8 text``."""
    text = raw
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise error(
                f"{label}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}): save it as UTF-8"
            ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{label}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise error(f"{label}: expected a JSON object {{...}}, not {type(data).__name__}")
    return data
