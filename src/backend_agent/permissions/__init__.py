"""Permissions for agent runs: modes, rules, settings, approval, hooks and the Bash sandbox.

``prepare_permissions`` reads the settings and flags of a run once, before the tool session
exists (the session needs the sandbox launcher); ``PermissionSetup.policy`` then builds the
runtime's Policy for that session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.permissions.approval import Approver, TerminalApprover
from backend_agent.permissions.decisions import PermissionEngine
from backend_agent.permissions.hooks import HookRunner, HookSpec
from backend_agent.permissions.paths import Workspace
from backend_agent.permissions.policy import PermissionPolicy
from backend_agent.permissions.sandbox import SandboxLauncher
from backend_agent.permissions.settings import (
    PERMISSION_MODES,
    PermissionMode,
    Settings,
    load_settings,
)
from backend_agent.runtime.options import RunOptions
from backend_agent.tools.base import CommandLauncher

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession

__all__ = [
    "PERMISSION_MODES",
    "PermissionPolicy",
    "PermissionSetup",
    "prepare_permissions",
]


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
        interactive: bool,
        session_id: str,
        approver: Approver | None = None,
    ) -> PermissionPolicy:
        """The Policy for ``session``; interactive runs ask in the terminal unless given one."""
        engine = PermissionEngine(
            self.mode,
            self.settings.rules,
            self.workspace,
            sandboxed=lambda: self.sandbox.private_tmp,
        )
        runner = HookRunner(
            self.hooks,
            session_id=session_id,
            cwd=str(self.workspace.cwd),
            permission_mode=self.mode,
            warn=self.warn,
        )
        if interactive and approver is None:
            approver = TerminalApprover()
        return PermissionPolicy(
            engine,
            runner,
            session,
            approver=approver if interactive else None,
            local_settings=self.settings.local_file,
        )


def prepare_permissions(
    options: RunOptions,
    *,
    agent_mode: str | None = None,
    agent_hooks: Sequence[HookSpec] = (),
    warn: Callable[[str], None] = warn_to_stderr,
) -> PermissionSetup:
    """Load settings and choose mode, working directories, hooks and sandbox for a run.

    Mode precedence: ``--permission-mode`` > the agent's ``permissionMode`` > settings
    ``defaultMode`` > ``default``. Warns once (via ``warn``) for bypassPermissions and when the
    sandbox cannot run; UserError when the sandbox is required and cannot run.
    """
    settings = load_settings(
        options.cwd,
        extra=options.settings,
        allowed_tools=options.allowed_tools,
        disallowed_tools=options.disallowed_tools,
    )
    mode = _choose_mode(options.permission_mode, agent_mode, settings.default_mode)
    for directory in options.add_dirs:
        if not directory.is_dir():
            raise UserError(f"--add-dir {directory}: not a directory")
    workspace = Workspace.create(
        options.cwd,
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
        settings, mode, workspace, sandbox, [*settings.hooks, *agent_hooks], warn
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
