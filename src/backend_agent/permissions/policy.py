"""PermissionPolicy: the runtime's Policy, combining hooks, the permission engine and approval.

Before a tool runs: PreToolUse hooks (they may block, rewrite the input, or decide), then the
engine's verdict, then the user when the answer is "ask" (or a refusal when nobody can be
asked). Hooks can approve an ordinary "ask" but never a deny rule, plan mode or a protected path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend_agent.definitions import PermissionMode
from backend_agent.errors import UserError
from backend_agent.messages import ToolUseBlock
from backend_agent.permissions.approval import Approval, ApprovalRequest, Approver, RuleScope
from backend_agent.permissions.decisions import PermissionEngine, Verdict
from backend_agent.permissions.hooks import HookRunner
from backend_agent.permissions.rules import EDIT_TOOLS, parse_rule
from backend_agent.permissions.settings import remove_allow_rule, save_allow_rule
from backend_agent.policy import CompactTrigger, PromptDecision, SessionSource, ToolDecision
from backend_agent.settings import scope_root, settings_file
from backend_agent.tools.base import ToolResult

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession


class PermissionPolicy:
    """Permissions and hooks for one session; ``approver=None`` means nobody can be asked."""

    def __init__(
        self,
        engine: PermissionEngine,
        hooks: HookRunner,
        session: ToolSession,
        *,
        approver: Approver | None,
        local_settings: Path,
    ) -> None:
        self.engine = engine
        self.hooks = hooks
        self.session = session
        self.approver = approver
        self.local_settings = local_settings
        self._stop_hook_active = False

    def set_mode(self, mode: PermissionMode) -> None:
        """Check the next tool calls against ``mode`` (hooks are told of it too)."""
        self.engine.mode = mode
        self.hooks.permission_mode = mode

    def add_allow_rule(self, text: str) -> Path:
        """Allow ``text`` (``Tool`` or ``Tool(specifier)``) from now on, saved to the local
        settings file, which is returned; UserError for a malformed rule."""
        cwd = self.engine.workspace.cwd
        rule = parse_rule(text, source=str(self.local_settings), root=cwd, cwd=cwd)
        save_allow_rule(self.local_settings, str(rule))
        self.engine.rules.remove("allow", str(rule))
        self.engine.rules.add("allow", rule)
        return self.local_settings

    @contextmanager
    def allowing(self, texts: Sequence[str], source: str) -> Iterator[None]:
        """Allow the rules ``texts`` while inside (e.g. a custom command's allowed-tools);
        UserError naming ``source`` for a malformed one."""
        cwd = self.engine.workspace.cwd
        rules = [parse_rule(text, source=source, root=cwd, cwd=cwd) for text in texts]
        allow = self.engine.rules.allow
        allow.extend(rules)
        try:
            yield
        finally:
            for rule in rules:
                allow.remove(rule)

    def remove_allow_rule(self, text: str) -> list[str]:
        """Stop allowing ``text``: it leaves the rules in force and every settings file that
        holds it. Returns where it came from (files, or a flag for this run only); UserError
        when no allow rule is written so."""
        gone = self.engine.rules.remove("allow", text.strip())
        if not gone:
            raise UserError(f"no allow rule {text.strip()!r} is in force (see /permissions)")
        sources = []
        for rule in gone:
            path = Path(rule.source)
            if path.is_absolute() and path.is_file():
                remove_allow_rule(path, str(rule))
            sources.append(rule.source)
        return sources

    def on_session_start(self, source: SessionSource) -> str:
        return "\n".join(self.hooks.run("SessionStart", {"source": source}, source).context)

    def on_user_prompt(self, prompt: str) -> PromptDecision:
        self._stop_hook_active = False
        result = self.hooks.run("UserPromptSubmit", {"prompt": prompt})
        if result.blocked:
            return PromptDecision(blocked=True, reason=result.reason)
        return PromptDecision(additional_context="\n".join(result.context))

    def before_tool(self, call: ToolUseBlock) -> ToolDecision:
        """PreToolUse hooks run first (they may block the call or rewrite its input); then the
        rules and mode decide, a deny winning over any hook; a hook's allow spares a question
        (never on a protected path), its ask adds one; what still asks goes to the approver
        (refused in dontAsk mode)."""
        hook = self.hooks.run(
            "PreToolUse", {"tool_name": call.name, "tool_input": call.input}, call.name
        )
        if hook.blocked:
            return ToolDecision(False, f"A PreToolUse hook blocked this call: {hook.reason}")
        tool_input = call.input if hook.updated_input is None else hook.updated_input
        verdict = self.engine.decide(
            call.name,
            tool_input,
            cwd=self.session.cwd,
            shell_cwd=self.session.shell_cwd,
            read_only=self.session.is_read_only(call.name),
        )
        if verdict.behavior == "deny":
            return ToolDecision(False, f"Permission denied: {verdict.reason}")
        if hook.permission == "deny":
            reason = hook.permission_reason or "no reason given"
            return ToolDecision(False, f"A PreToolUse hook denied this call: {reason}")
        allowed = ToolDecision(True, updated_input=hook.updated_input)
        if verdict.behavior == "allow" and hook.permission != "ask":
            return allowed
        if verdict.behavior == "ask" and hook.permission == "allow" and not verdict.protected:
            return allowed
        if verdict.behavior == "allow":
            verdict = Verdict("ask", hook.permission_reason or "a PreToolUse hook asks first")
        if self.engine.mode == "dontAsk":
            return ToolDecision(False, f"Permission denied: {verdict.reason} (dontAsk mode)")
        return self._ask_user(call.name, tool_input, verdict, allowed)

    def after_tool(self, call: ToolUseBlock, result: ToolResult) -> str:
        response = {"content": result.content, "is_error": result.is_error}
        hook = self.hooks.run(
            "PostToolUse",
            {"tool_name": call.name, "tool_input": call.input, "tool_response": response},
            call.name,
        )
        return "\n".join(filter(None, [hook.reason, *hook.context]))

    def on_stop(self, final_text: str) -> str:
        result = self.hooks.run(
            "Stop",
            {"stop_hook_active": self._stop_hook_active, "last_assistant_message": final_text},
        )
        self._stop_hook_active = result.blocked
        return result.reason if result.blocked else ""

    def before_compact(self, trigger: CompactTrigger, instructions: str) -> str:
        fields = {"trigger": trigger, "custom_instructions": instructions}
        return "\n".join(self.hooks.run("PreCompact", fields, trigger).context)

    def after_compact(self, trigger: CompactTrigger, summary: str) -> None:
        self.hooks.run("PostCompact", {"trigger": trigger, "compact_summary": summary}, trigger)

    def _ask_user(
        self, tool: str, tool_input: dict[str, Any], verdict: Verdict, allowed: ToolDecision
    ) -> ToolDecision:
        if self.approver is None:
            hint = f" such as {verdict.suggestions[0]}" if verdict.suggestions else ""
            return ToolDecision(
                False,
                f"Permission denied: {verdict.reason}. This run cannot ask the user, so calls "
                f"that need approval are refused; do not retry it. The user can allow it with a "
                f"permission rule{hint} (--allowedTools on the command line, allowed_tools in "
                "Python) or a permission mode.",
            )
        change = self.session.planned_change(tool, tool_input) if tool in EDIT_TOOLS else None
        request = ApprovalRequest(tool, tool_input, verdict.reason, change, verdict.suggestions)
        approval = self.approver.approve(request)
        if approval.choice == "always":
            rules = verdict.suggestions if approval.rules is None else approval.rules
            self._save_rules(self.approver, rules, approval.scope)
        if approval.choice == "no":
            return ToolDecision(False, _refusal(tool, approval))
        if approval.updated_input is not None:
            return ToolDecision(True, updated_input=approval.updated_input)
        return allowed

    def _save_rules(self, approver: Approver, rules: tuple[str, ...], scope: RuleScope) -> None:
        """Add ``rules`` to this session and, unless ``scope`` is "session", to that scope's
        settings file (as "yes, and don't ask again" does)."""
        cwd = self.engine.workspace.cwd
        if scope == "session":
            where, root = "this session", cwd
        else:
            where = str(self.local_settings if scope == "local" else settings_file(cwd, scope))
            root = scope_root(cwd, scope)
        for text in rules:
            try:
                rule = parse_rule(text, source=where, root=root, cwd=cwd)
                if scope != "session":
                    save_allow_rule(Path(where), text)
            except (OSError, UserError) as error:
                approver.notify(f"Could not save {text} to {where}: {error}")
                continue
            self.engine.rules.add("allow", rule)
            approver.notify(f"Saved rule {text} to {where}")


def _refusal(tool: str, approval: Approval) -> str:
    message = f"The user refused this {tool} call; it did not run."
    if approval.note:
        return f"{message} The user says: {approval.note}"
    return f"{message} Ask the user how to proceed instead of retrying."
