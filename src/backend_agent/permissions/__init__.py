"""Permissions for agent runs: modes, rules, settings, approval, hooks and the Bash sandbox.

``prepare_permissions`` resolves the settings and flags of a run once, before the tool session
exists (the session needs the sandbox launcher); ``PermissionSetup.policy`` then builds the
runtime's Policy for that session. Asking the user is left to an ``Approver`` the caller
passes (the terminal one lives in ``backend_agent.ui``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from backend_agent.definitions import PERMISSION_MODES, PermissionMode
from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.permissions.approval import Approver
from backend_agent.permissions.decisions import PermissionEngine
from backend_agent.permissions.hooks import HookRunner, HookSpec
from backend_agent.permissions.paths import Workspace, resolve
from backend_agent.permissions.policy import PermissionPolicy
from backend_agent.permissions.sandbox import SandboxLauncher
from backend_agent.permissions.settings import Settings, load_settings
from backend_agent.settings import SettingsFiles, load_settings_files
from backend_agent.tools.base import CommandLauncher

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession

__all__ = [
    "PERMISSION_MODES",
    "PermissionOptions",
    "PermissionPolicy",
    "PermissionSetup",
    "prepare_permissions",
]


@dataclass
class PermissionOptions:
    """What the user chose about permissions and the sandbox; None means "not given: the
    agent, then settings, then the default decide"."""

    mode: str | None = None
    allowed_tools: list[str] = field(default_factory=list)
    disallowed_tools: list[str] = field(default_factory=list)
    add_dirs: list[Path] = field(default_factory=list)
    sandbox: str | None = None  # "auto" | "required" | "off"
    sandbox_network: bool | None = None  # True opens the network to sandboxed commands
    hooks: list[HookSpec] = field(default_factory=list)  # given by a program (Python API)


@dataclass
class PermissionSetup:
    """Everything permission-related of one run, resolved from settings, flags and agent."""

    settings: Settings
    mode: PermissionMode
    workspace: Workspace
    sandbox: SandboxLauncher
    hooks: list[HookSpec]
    warn: Callable[[str], None]

    @property
    def launcher(self) -> CommandLauncher:
        return self.sandbox

    def policy(
        self,
        session: ToolSession,
        *,
        session_id: str,
        approver: Approver | None = None,
        transcript_path: str = "",
    ) -> PermissionPolicy:
        """The Policy for ``session``; without an ``approver`` nobody can be asked, so calls
        that need approval are refused."""
        spill = session.spill
        engine = PermissionEngine(
            self.mode,
            self.settings.rules,
            self.workspace,
            sandboxed=lambda: self.sandbox.private_tmp,
            readable=(resolve(spill.directory, self.workspace.cwd),) if spill else (),
        )
        runner = HookRunner(
            self.hooks,
            session_id=session_id,
            cwd=str(self.workspace.cwd),
            permission_mode=self.mode,
            transcript_path=transcript_path,
            warn=self.warn,
        )
        return PermissionPolicy(
            engine, runner, session, approver=approver, local_settings=self.settings.local_file
        )


def prepare_permissions(
    cwd: Path,
    options: PermissionOptions,
    *,
    files: SettingsFiles | None = None,
    agent_mode: str | None = None,
    agent_hooks: Sequence[HookSpec] = (),
    warn: Callable[[str], None] = warn_to_stderr,
) -> PermissionSetup:
    """Merge settings (``files``, read now if not given) and flags, and choose mode, working
    directories, hooks and sandbox for a run in ``cwd``.

    Mode precedence: ``--permission-mode`` > the agent's ``permissionMode`` > settings
    ``defaultMode`` > ``default``. Warns once (via ``warn``) for bypassPermissions and when the
    sandbox cannot run; UserError when the sandbox is required and cannot run.
    """
    settings = load_settings(
        cwd,
        allowed_tools=options.allowed_tools,
        disallowed_tools=options.disallowed_tools,
        files=files if files is not None else load_settings_files(cwd),
        warn=warn,
    )
    mode = _choose_mode(options.mode, agent_mode, settings.default_mode)
    for directory in options.add_dirs:
        if not directory.is_dir():
            raise UserError(f"--add-dir {directory}: not a directory")
    workspace = Workspace.create(
        cwd,
        [*options.add_dirs, *settings.additional_directories],
        settings.files,
    )
    if options.sandbox is not None:
        if options.sandbox not in ("auto", "required", "off"):
            raise UserError(f"--sandbox {options.sandbox}: choose auto, required or off")
        settings.sandbox.enabled = options.sandbox != "off"
        if options.sandbox != "off":
            settings.sandbox.policy = "required" if options.sandbox == "required" else "auto"
    if options.sandbox_network is not None:
        settings.sandbox.network = options.sandbox_network
    if mode == "bypassPermissions":
        warn(
            "bypassPermissions mode: tool calls run without asking; only deny rules, hooks "
            "and the Bash sandbox still apply"
        )
    sandbox = SandboxLauncher(settings.sandbox, workspace.directories, warn)
    sandbox.chosen  # noqa: B018 - decided (and warned about) before any command runs
    return PermissionSetup(
        settings, mode, workspace, sandbox, [*settings.hooks, *agent_hooks, *options.hooks], warn
    )


def _choose_mode(flag: str | None, agent: str | None, settings: str | None) -> PermissionMode:
    for value, where in (
        (flag, "--permission-mode"),
        (agent, "the agent's permissionMode"),
        (settings, "settings defaultMode"),
    ):
        if value is None:
            continue
        if value not in PERMISSION_MODES:
            raise UserError(f"{where} {value!r}: choose one of {', '.join(PERMISSION_MODES)}")
        return cast(PermissionMode, value)
    return "default"
