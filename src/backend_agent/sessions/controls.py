"""What a session's user changes between prompts: the model, the permission mode, rules allowed
for a while, and context sent along with the next prompt (a file, a shell command's output).

``Session`` inherits these; they are kept here so that the session's own module stays readable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import cast

from backend_agent.definitions import PermissionMode
from backend_agent.errors import UserError
from backend_agent.models.base import Model
from backend_agent.models.registry import open_model
from backend_agent.permissions import PERMISSION_MODES, PermissionPolicy
from backend_agent.policy import Policy
from backend_agent.runtime.agent import Agent
from backend_agent.runtime.context import resolve_budget
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.parts import SessionParts
from backend_agent.settings import SettingsFiles, load_settings_files
from backend_agent.tools import ToolResult, ToolSession
from backend_agent.tools.builtin import ToolError

USER_COMMAND_TIMEOUT_MS = 10 * 60 * 1000


class BetweenPrompts:
    """The changes between prompts, on the parts a ``Session`` owns."""

    parts: SessionParts
    agent: Agent
    config: SessionConfig
    cwd: Path
    _pending_context: str

    @property
    def tools(self) -> ToolSession:
        return self.parts.tools

    @property
    def policy(self) -> Policy:
        return self.parts.policy

    def add_context(self, text: str) -> None:
        """Send ``text`` along with the next prompt (e.g. a file the user mentioned)."""
        self._pending_context = "\n\n".join(p for p in (self._pending_context, text) if p)

    def run_user_command(self, command: str) -> ToolResult:
        """Run a shell command the user typed (``!command``): no permission check, but the
        same sandbox as Bash; the command and its output go along with the next prompt."""
        try:
            result = self.tools.shell.run(command, USER_COMMAND_TIMEOUT_MS, self.cwd)
        except ToolError as error:
            result = ToolResult(str(error), is_error=True)
        self.add_context(
            f"<user-shell-command>\n$ {command}\n{result.content}\n</user-shell-command>\n"
            "(The user ran this command in the session's shell; its output is above.)"
        )
        return result

    def switch_model(self, spec: str) -> Model:
        """Use the model ``spec`` names (``sonnet``, ``openai:gpt-5``...) from the next model
        call on, at the session's base URL and settings; UserError for an unknown spec."""
        config = self.config
        files = load_settings_files(self.cwd, config.settings, config.setting_scopes)
        model = open_model(replace(config.model, name=spec), None, files)
        self.use_model(model, files)
        return model

    def use_model(self, model: Model, files: SettingsFiles | None = None) -> None:
        """Use ``model`` from the next model call on, with the context budget of its window
        (``files``: the settings, read again when not given)."""
        config = self.config
        if files is None:
            files = load_settings_files(self.cwd, config.settings, config.setting_scopes)
        budget = resolve_budget(model.model_id, config.context, files)
        self.parts.model = self.agent.model = model
        self.parts.context = budget
        if self.agent.compactor is not None:
            self.agent.compactor.budget = budget

    def set_permission_mode(self, mode: str) -> None:
        """Check the next tool calls against ``mode`` (default, acceptEdits, plan, ...)."""
        if mode not in PERMISSION_MODES:
            raise UserError(f"unknown permission mode {mode!r}: {', '.join(PERMISSION_MODES)}")
        chosen = cast(PermissionMode, mode)
        self.parts.permissions.mode = chosen
        if isinstance(self.policy, PermissionPolicy):
            self.policy.set_mode(chosen)

    @contextmanager
    def allowing(self, rules: Sequence[str]) -> Iterator[None]:
        """Allow ``rules`` (``Bash(git diff:*)``, ``Edit``...) without asking while inside,
        e.g. during a custom command's prompt; UserError for a malformed rule."""
        if not rules or not isinstance(self.policy, PermissionPolicy):
            yield
            return
        with self.policy.allowing(rules, "a command's allowed-tools"):
            yield
