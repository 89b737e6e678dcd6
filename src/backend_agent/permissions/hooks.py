"""Command hooks in Claude Code's format: parse them, run the ones an event matches, read results.

A hook gets the event as JSON on stdin. Exit code 0 succeeds (stdout may be JSON with a
decision or context), exit code 2 blocks with stderr going to the model, any other exit code or
a timeout is reported to the user and otherwise ignored.

A program using the Python API may also give Python callables as hooks: each is called with
the same JSON object (as a dict) and returns what a command would print: a dict with the same
decisions, text, or None. An exception is reported like a failing command.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from backend_agent.awaiting import resolve
from backend_agent.errors import UserError, first_problem, warn_to_stderr

HookEvent = Literal[
    "PreToolUse",
    "PostToolUse",
    "UserPromptSubmit",
    "Stop",
    "SessionStart",
    "PreCompact",
    "PostCompact",
]
HOOK_EVENTS: tuple[str, ...] = get_args(HookEvent)
HookOutput = dict[str, Any] | str | None
HookCallback = Callable[[dict[str, Any]], HookOutput | Awaitable[HookOutput]]
"""A Python hook: the event's JSON object in; a decision dict, text, or None out."""
PermissionDecision = Literal["allow", "deny", "ask"]
DEFAULT_TIMEOUT_SECONDS = 60.0
BLOCKING_EXIT_CODE = 2
# Events whose matcher applies: to the tool name, the session source, the compaction trigger.
_MATCHED_EVENTS = frozenset(
    {"PreToolUse", "PostToolUse", "SessionStart", "PreCompact", "PostCompact"}
)
_DECISION_STRENGTH = {"allow": 0, "ask": 1, "deny": 2}


class _Command(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = "command"
    command: str = ""
    timeout: float | None = Field(default=None, gt=0)


class _Matcher(BaseModel):
    model_config = ConfigDict(extra="ignore")
    matcher: str = ""
    hooks: list[_Command] = []


_HOOKS = TypeAdapter(dict[str, list[_Matcher]])


@dataclass(frozen=True)
class HookSpec:
    """One hook: the event it listens to, its tool-name regex, and where it came from; it runs
    ``command``, or calls ``callback`` when given (``command`` then names the function)."""

    event: str
    matcher: str
    command: str
    timeout: float
    source: str
    callback: HookCallback | None = None

    @property
    def label(self) -> str:
        """The hook as messages name it."""
        return f"function {self.command}" if self.callback else f"`{self.command}`"

    def matches(self, target: str) -> bool:
        if self.event not in _MATCHED_EVENTS or self.matcher in ("", "*"):
            return True
        return re.fullmatch(self.matcher, target) is not None


def parse_hooks(
    data: Any, source: str, warn: Callable[[str], None] = warn_to_stderr
) -> list[HookSpec]:
    """Read a ``hooks`` object (settings file or agent frontmatter); errors name ``source``,
    hooks of a kind we do not run are skipped with a ``warn``."""
    try:
        events = _HOOKS.validate_python(data or {})
    except ValidationError as error:
        raise UserError(f"{source}: {first_problem(error, 'hooks')}") from error
    specs: list[HookSpec] = []
    for event, matchers in events.items():
        for entry in matchers:
            try:
                re.compile(entry.matcher)
            except re.error as error:
                raise UserError(
                    f"{source}: hooks.{event}: matcher {entry.matcher!r} is not a valid regex "
                    f"({error})"
                ) from error
            for hook in entry.hooks:
                if hook.type != "command" or not hook.command:
                    warn(
                        f"{source}: hooks.{event}: skipped a hook of type {hook.type!r}; "
                        "only command hooks are supported"
                    )
                    continue
                timeout = hook.timeout or DEFAULT_TIMEOUT_SECONDS
                specs.append(HookSpec(event, entry.matcher, hook.command, timeout, source))
    return specs


HookEntry = HookCallback | str | Mapping[str, Any]
"""A hook given in Python: a callable, a command, or a settings-style ``{"matcher", "hooks"}``."""


def python_hooks(data: Mapping[str, Sequence[HookEntry]], source: str) -> list[HookSpec]:
    """Hooks given as ``{event: [callable | command | {"matcher": ..., "hooks": [...]}]}``; a
    callable or command alone matches every tool. UserError naming ``source`` when malformed."""
    specs: list[HookSpec] = []
    for event, entries in data.items():
        if event not in HOOK_EVENTS:
            raise UserError(f"{source}: unknown hook event {event!r}; use {', '.join(HOOK_EVENTS)}")
        if isinstance(entries, (str, Mapping)) or callable(entries):
            raise UserError(f"{source}: hooks[{event!r}] must be a list of hooks")
        for entry in entries:
            if isinstance(entry, Mapping):
                specs += _matcher_entry(event, entry, source)
            else:
                specs.append(_one_hook(event, "", entry, DEFAULT_TIMEOUT_SECONDS, source))
    return specs


def _matcher_entry(event: str, entry: Mapping[str, Any], source: str) -> list[HookSpec]:
    matcher = entry.get("matcher", "")
    hooks = entry.get("hooks", [])
    if not isinstance(matcher, str) or isinstance(hooks, (str, Mapping)) or callable(hooks):
        raise UserError(f"{source}: hooks[{event!r}]: write {{'matcher': str, 'hooks': [...]}}")
    try:
        re.compile(matcher)
    except re.error as error:
        raise UserError(
            f"{source}: hooks[{event!r}]: matcher {matcher!r} is not a valid regex ({error})"
        ) from error
    specs = []
    for hook in hooks:
        timeout = DEFAULT_TIMEOUT_SECONDS
        if isinstance(hook, Mapping):  # {"type": "command", "command": ..., "timeout": ...}
            timeout = float(hook.get("timeout") or timeout)
            hook = hook.get("command")
        specs.append(_one_hook(event, matcher, hook, timeout, source))
    return specs


def _one_hook(event: str, matcher: str, hook: Any, timeout: float, source: str) -> HookSpec:
    if isinstance(hook, str) and hook.strip():
        return HookSpec(event, matcher, hook, timeout, source)
    if callable(hook):
        name = getattr(hook, "__qualname__", None) or type(hook).__qualname__
        label = f"{getattr(hook, '__module__', None) or '?'}.{name}"
        return HookSpec(event, matcher, label, timeout, source, callback=hook)
    raise UserError(f"{source}: hooks[{event!r}]: {hook!r} is neither a callable nor a command")


@dataclass
class HookResult:
    """What the hooks of one event decided, merged (deny beats ask beats allow)."""

    blocked: bool = False
    reason: str = ""
    permission: PermissionDecision | None = None
    permission_reason: str = ""
    context: list[str] = field(default_factory=list)
    updated_input: dict[str, Any] | None = None

    def merge_permission(self, decision: PermissionDecision, reason: str) -> None:
        if self.permission is None or (
            _DECISION_STRENGTH[decision] > _DECISION_STRENGTH[self.permission]
        ):
            self.permission, self.permission_reason = decision, reason


class HookRunner:
    """Runs the configured hooks of a session; ``warn`` reports hook failures to the user."""

    def __init__(
        self,
        hooks: list[HookSpec],
        *,
        session_id: str,
        cwd: str,
        permission_mode: str,
        transcript_path: str = "",
        warn: Callable[[str], None] = warn_to_stderr,
    ) -> None:
        self.hooks = hooks
        self.session_id = session_id
        self.cwd = cwd
        self.permission_mode = permission_mode
        self.transcript_path = transcript_path
        self.warn = warn

    def run(self, event: HookEvent, fields: dict[str, Any], target: str = "") -> HookResult:
        """Run every hook of ``event`` whose matcher accepts ``target`` (the tool name)."""
        payload = {
            "session_id": self.session_id,
            "transcript_path": self.transcript_path,
            "cwd": self.cwd,
            "permission_mode": self.permission_mode,
            "hook_event_name": event,
            **fields,
        }
        result = HookResult()
        for hook in self.hooks:
            if hook.event == event and hook.matches(target):
                self._run_one(hook, json.dumps(payload), result)
        return result

    def _run_one(self, hook: HookSpec, stdin: str, result: HookResult) -> None:
        if hook.callback is not None:
            self._call(hook, hook.callback, json.loads(stdin), result)
            return
        env = {**os.environ, "CLAUDE_PROJECT_DIR": self.cwd}
        try:
            process = subprocess.Popen(
                ["bash", "-c", hook.command],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as error:
            self.warn(f"{hook.event} hook `{hook.command}` could not start: {error}")
            return
        try:
            stdout, stderr = process.communicate(stdin, timeout=hook.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            self.warn(
                f"{hook.event} hook `{hook.command}` timed out after {hook.timeout:g}s "
                "and was stopped; continuing without it"
            )
            return
        except BaseException:  # Ctrl-C or a terminating signal: the hook must not outlive us
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        if process.returncode == BLOCKING_EXIT_CODE:
            result.blocked = True
            message = stderr.strip() or f"blocked by {hook.event} hook `{hook.command}`"
            result.reason = "\n".join(filter(None, [result.reason, message]))
        elif process.returncode != 0:
            detail = stderr.strip().splitlines()[-1] if stderr.strip() else "no error output"
            self.warn(
                f"{hook.event} hook `{hook.command}` failed with exit code "
                f"{process.returncode}: {detail}"
            )
        else:
            self._read_output(hook, stdout, result)

    def _call(
        self, hook: HookSpec, callback: HookCallback, payload: dict[str, Any], result: HookResult
    ) -> None:
        """A Python hook: its return value is read as a command's output would be."""
        try:
            output = resolve(callback(payload))
        except Exception as error:
            self.warn(f"{hook.event} hook {hook.label} failed: {type(error).__name__}: {error}")
            return
        if isinstance(output, dict):
            self._read_output(hook, json.dumps(output), result)
        elif isinstance(output, str):
            self._read_output(hook, output, result)
        elif output is not None:
            self.warn(
                f"{hook.event} hook {hook.label} returned a {type(output).__name__}; "
                "return a dict, a string or None"
            )

    def _read_output(self, hook: HookSpec, stdout: str, result: HookResult) -> None:
        text = stdout.strip()
        if not text.startswith("{"):
            if text and hook.event in ("UserPromptSubmit", "SessionStart", "PreCompact"):
                result.context.append(text)
            return
        try:
            output = json.loads(text)
        except json.JSONDecodeError as error:
            self.warn(f"{hook.event} hook {hook.label} printed invalid JSON ({error})")
            return
        if not isinstance(output, dict):
            return
        reason = str(output.get("reason") or "")
        decision = output.get("decision")
        if decision == "block":
            result.blocked = True
            result.reason = "\n".join(
                filter(None, [result.reason, reason or f"blocked by hook {hook.label}"])
            )
        elif decision == "approve":
            result.merge_permission("allow", reason)
        specific = output.get("hookSpecificOutput")
        specific = specific if isinstance(specific, dict) else {}
        permission = specific.get("permissionDecision")
        if permission in _DECISION_STRENGTH:
            result.merge_permission(permission, str(specific.get("permissionDecisionReason") or ""))
        updated = specific.get("updatedInput")
        if isinstance(updated, dict):
            result.updated_input = updated
        context = specific.get("additionalContext") or output.get("additionalContext")
        if isinstance(context, str) and context:
            result.context.append(context)
