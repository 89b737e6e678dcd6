"""The permission, hook and sandbox sections of the settings files, merged into one view.

The files are read by ``backend_agent.settings`` (user, project, local, each ``--settings``);
here their sections are validated and merged in that order, then ``--allowedTools`` and
``--disallowedTools`` are added. Rule lists and hooks are concatenated; single values
(``defaultMode``, sandbox options) take the last source that sets them.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from backend_agent.definitions import PermissionMode
from backend_agent.errors import UserError, first_problem, warn_to_stderr
from backend_agent.permissions.hooks import HookSpec, parse_hooks
from backend_agent.permissions.paths import resolve
from backend_agent.permissions.rules import Behavior, RuleSet, parse_rule, split_rule_list
from backend_agent.settings import SettingsFiles, load_settings_files, read_settings_object

SandboxPolicy = Literal["auto", "required"]


class _Permissions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    allow: list[str] = []
    ask: list[str] = []
    deny: list[str] = []
    defaultMode: PermissionMode | None = None
    additionalDirectories: list[str] = []


class _Sandbox(BaseModel):
    model_config = ConfigDict(extra="ignore")
    enabled: bool | None = None
    policy: SandboxPolicy | None = None
    # Claude Code uses an object here for its own network proxy; only a boolean is ours.
    network: bool | dict[str, Any] | None = None
    hiddenPaths: list[str] = []
    writablePaths: list[str] = []


class _SettingsFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    permissions: _Permissions = _Permissions()
    hooks: dict[str, Any] = {}
    sandbox: _Sandbox = _Sandbox()


@dataclass
class SandboxSettings:
    """How Bash commands are isolated: on/off, what to do when bwrap fails, what is open."""

    enabled: bool = True
    policy: SandboxPolicy = "auto"
    network: bool = False
    hidden_paths: list[Path] = field(default_factory=list)
    writable_paths: list[Path] = field(default_factory=list)


@dataclass
class Settings:
    """The merged settings of one run."""

    rules: RuleSet = field(default_factory=RuleSet)
    default_mode: PermissionMode | None = None
    additional_directories: list[Path] = field(default_factory=list)
    hooks: list[HookSpec] = field(default_factory=list)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    files: list[Path] = field(default_factory=list)
    local_file: Path = Path(".claude/settings.local.json")


def load_settings(
    cwd: Path,
    *,
    extra: Sequence[str] = (),
    allowed_tools: Sequence[str] = (),
    disallowed_tools: Sequence[str] = (),
    files: SettingsFiles | None = None,
    warn: Callable[[str], None] = warn_to_stderr,
) -> Settings:
    """Merge the permission, hook and sandbox sections of every settings source of a run in
    ``cwd`` (``files``, or read now with ``extra``), then the tool flags."""
    if files is None:
        files = load_settings_files(cwd, extra)
    cwd = files.cwd
    settings = Settings(local_file=files.local_file, files=files.files)
    for source in files.sources:
        file = _validate(source.data, source.label)
        _merge(settings, file, source.label, root=source.root, cwd=cwd, warn=warn)
    flags: tuple[tuple[Behavior, Sequence[str], str], ...] = (
        ("allow", allowed_tools, "--allowedTools"),
        ("deny", disallowed_tools, "--disallowedTools"),
    )
    for behavior, values, label in flags:
        for value in values:
            for text in split_rule_list(value):
                settings.rules.add(behavior, parse_rule(text, source=label, root=cwd, cwd=cwd))
    return settings


def _validate(data: Any, label: str) -> _SettingsFile:
    try:
        return _SettingsFile.model_validate(data)
    except ValidationError as error:
        raise UserError(f"{label}: {first_problem(error)}") from error


def _merge(
    settings: Settings,
    file: _SettingsFile,
    label: str,
    *,
    root: Path,
    cwd: Path,
    warn: Callable[[str], None],
) -> None:
    permissions = file.permissions
    behaviors: tuple[tuple[Behavior, list[str]], ...] = (
        ("allow", permissions.allow),
        ("ask", permissions.ask),
        ("deny", permissions.deny),
    )
    for behavior, texts in behaviors:
        for text in texts:
            settings.rules.add(behavior, parse_rule(text, source=label, root=root, cwd=cwd))
    if permissions.defaultMode is not None:
        settings.default_mode = permissions.defaultMode
    settings.additional_directories += [resolve(d, cwd) for d in permissions.additionalDirectories]
    settings.hooks += parse_hooks(file.hooks, label, warn)
    sandbox = file.sandbox
    if sandbox.enabled is not None:
        settings.sandbox.enabled = sandbox.enabled
    if sandbox.policy is not None:
        settings.sandbox.policy = sandbox.policy
    if isinstance(sandbox.network, bool):
        settings.sandbox.network = sandbox.network
    settings.sandbox.hidden_paths += [resolve(p, cwd) for p in sandbox.hiddenPaths]
    settings.sandbox.writable_paths += [resolve(p, cwd) for p in sandbox.writablePaths]


def save_allow_rule(path: Path, rule: str) -> None:
    """Append ``rule`` to ``permissions.allow`` of the settings file at ``path`` (atomically)."""
    data = read_settings_object(path) if path.is_file() else {}
    permissions = data.setdefault("permissions", {})
    allow = permissions.setdefault("allow", [])
    if rule not in allow:
        allow.append(rule)
    _write_settings(path, data)


def remove_allow_rule(path: Path, rule: str) -> bool:
    """Take ``rule`` out of ``permissions.allow`` of the settings file at ``path``; False when
    the file does not hold it."""
    data = read_settings_object(path) if path.is_file() else {}
    allow = data.get("permissions", {}).get("allow")
    if not isinstance(allow, list) or rule not in allow:
        return False
    allow.remove(rule)
    _write_settings(path, data)
    return True


def _write_settings(path: Path, data: dict[str, Any]) -> None:
    """Replace the settings file at ``path`` with ``data`` in one step (no half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
