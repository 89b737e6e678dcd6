"""Rule syntax, shell splitting, settings merging, mode precedence and sandbox policy."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.errors import UserError
from backend_agent.messages import ToolUseBlock
from backend_agent.permissions import PermissionOptions, prepare_permissions, shell
from backend_agent.permissions.decisions import PermissionEngine
from backend_agent.permissions.paths import Workspace
from backend_agent.permissions.rules import RuleSet, command_matches, parse_rule, split_rule_list
from backend_agent.permissions.settings import load_settings
from backend_agent.permissions.shell import UnparsableCommand, split_command
from backend_agent.tools import ToolSession


@pytest.mark.parametrize(
    ("rule", "command", "matches"),
    [
        ("npm run test:*", "npm run test", True),
        ("npm run test:*", "npm run test -- --watch", True),
        ("npm run test:*", "npm run testing", False),
        ("npm run test:*", "npm run lint", False),
        ("git * main", "git push origin main", True),
        ("git * main", "git push origin main --force", False),
        ("git status", "git  status", True),
        ("git status", "git status --short", False),
    ],
)
def test_bash_specifiers(rule: str, command: str, matches: bool) -> None:
    assert command_matches(rule, command) is matches


def test_path_rules_follow_gitignore_style(project: Path, home: Path) -> None:
    def rule(text: str) -> bool:
        return parse_rule(text, source="t", root=project, cwd=project).matches_path

    assert rule("Read(./.env)")(project / ".env")
    assert not rule("Read(./.env)")(project / "api" / ".env")
    assert rule("Read(.env)")(project / "api" / ".env")
    assert rule("Edit(src/**)")(project / "src" / "a" / "b.py")
    assert not rule("Edit(src/**)")(project / "lib" / "src" / "b.py")
    assert rule("Edit(/docs/*.md)")(project / "docs" / "x.md")
    assert not rule("Edit(/docs/*.md)")(project / "docs" / "a" / "x.md")
    assert rule("Read(//etc/hosts)")(Path("/etc/hosts"))
    assert rule("Read(~/.ssh)")(home.resolve() / ".ssh" / "id_rsa")
    assert rule("Read(secrets)")(project / "secrets" / "key.pem")


def test_rule_scope_by_tool_family_and_mcp_server(project: Path) -> None:
    def applies(text: str, tool: str) -> bool:
        return parse_rule(text, source="t", root=project, cwd=project).applies_to(tool)

    assert applies("Read", "Grep") and applies("Edit", "Write") and not applies("Write", "Edit")
    assert applies("mcp__github", "mcp__github__create_issue")
    assert applies("mcp__github__*", "mcp__github__create_issue")
    assert not applies("mcp__github", "mcp__githubx__tool")
    assert not applies("mcp__github__create_issue", "mcp__github__delete_repo")


def test_rule_lists_split_outside_parentheses_and_bad_rules_name_their_source(
    project: Path,
) -> None:
    assert split_rule_list("Bash(git diff:*) Edit,Read") == ["Bash(git diff:*)", "Edit", "Read"]
    with pytest.raises(UserError, match="--allowedTools: invalid permission rule"):
        parse_rule("Bash(oops", source="--allowedTools", root=project, cwd=project)


def test_compound_commands_are_split_into_every_command() -> None:
    parsed = split_command("a && b || c; d | e\nf & g $(h) `i` <(j); (k); { l; }")
    names = sorted(command.name for command in parsed.commands)
    assert names == ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]


def test_a_command_the_parser_never_finishes_is_unparsable_instead_of_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shell, "PARSE_TIMEOUT_S", 0.5)
    with pytest.raises(UnparsableCommand, match="did not finish"):
        split_command("'${'-")  # bashlex loops forever on this one
    assert [c.name for c in split_command("git status && ls").commands] == ["git", "ls"]


@settings(deadline=None)  # inputs that make bashlex loop take the parse time limit
@given(st.text(alphabet="ab $()`'\"|&;<>{}\n\\=*~/-", max_size=40))
def test_the_splitter_either_splits_or_reports_unparsable(command: str) -> None:
    try:
        with mock.patch.object(shell, "PARSE_TIMEOUT_S", 0.5):
            parsed = split_command(command)
    except UnparsableCommand:
        return
    assert parsed.commands


def test_settings_merge_in_order_and_flags_come_last(project: Path, home: Path) -> None:
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"permissions": {"allow": ["Read"], "defaultMode": "plan"}})
    )
    (project / ".claude" / "settings.json").write_text(
        json.dumps({"permissions": {"deny": ["Bash(rm:*)"], "defaultMode": "acceptEdits"}})
    )
    (project / ".claude" / "settings.local.json").write_text(
        json.dumps({"permissions": {"ask": ["Bash(git push:*)"]}, "sandbox": {"network": True}})
    )
    extra = project.parent / "extra.json"
    extra.write_text(json.dumps({"permissions": {"allow": ["Edit(src/**)"]}}))
    settings = load_settings(
        project,
        extra=[str(extra), '{"sandbox": {"policy": "required"}}'],
        allowed_tools=["Bash(make:*) Glob"],
        disallowed_tools=["Write"],
    )
    assert [str(r) for r in settings.rules.allow] == [
        "Read",
        "Edit(src/**)",
        "Bash(make:*)",
        "Glob",
    ]
    assert [str(r) for r in settings.rules.deny] == ["Bash(rm:*)", "Write"]
    assert [str(r) for r in settings.rules.ask] == ["Bash(git push:*)"]
    assert settings.default_mode == "acceptEdits"
    assert settings.sandbox.network is True and settings.sandbox.policy == "required"


def test_bad_settings_stop_with_one_clear_line(project: Path) -> None:
    (project / ".claude" / "settings.json").write_text('{"permissions": {\n  "allow": [oops]}}')
    with pytest.raises(UserError, match=r"settings.json:2:13: invalid JSON: Expecting value$"):
        load_settings(project)
    (project / ".claude" / "settings.json").write_bytes(b'{"model":\n "caf\xe9"}')
    with pytest.raises(UserError, match=r"settings.json:2: not UTF-8 text \(byte 0xe9\)"):
        load_settings(project)
    (project / ".claude" / "settings.json").write_text("{}")
    with pytest.raises(UserError, match=r"^--settings:1:2: invalid JSON: "):
        load_settings(project, extra=["{bad"])
    (project / ".claude" / "settings.json").write_text('{"permissions": {"defaultMode": "yolo"}}')
    with pytest.raises(UserError, match=r"permissions.defaultMode"):
        load_settings(project)
    (project / ".claude" / "settings.json").write_text('{"sandbox": "on"}')
    with pytest.raises(UserError, match=r"settings.json: sandbox: expected an object$"):
        load_settings(project)
    with pytest.raises(UserError, match="--settings: no such file"):
        load_settings(project.parent, extra=["missing.json"])


@pytest.mark.parametrize(
    ("flag", "agent", "settings", "expected"),
    [
        ("plan", "acceptEdits", "dontAsk", "plan"),
        (None, "acceptEdits", "dontAsk", "acceptEdits"),
        (None, None, "dontAsk", "dontAsk"),
        (None, None, None, "default"),
    ],
)
def test_mode_precedence(
    project: Path, flag: str | None, agent: str | None, settings: str | None, expected: str
) -> None:
    if settings:
        (project / ".claude" / "settings.json").write_text(
            json.dumps({"permissions": {"defaultMode": settings}})
        )
    options = PermissionOptions(mode=flag)
    assert prepare_permissions(project, options, agent_mode=agent, warn=print).mode == expected


def test_bypass_mode_warns_once(project: Path) -> None:
    warnings: list[str] = []
    prepare_permissions(project, PermissionOptions(mode="bypassPermissions"), warn=warnings.append)
    assert len(warnings) == 1 and "bypassPermissions" in warnings[0]


def test_a_grep_cannot_read_a_file_a_deny_rule_protects(project: Path) -> None:
    (project / "config").mkdir()
    (project / "config" / "secrets.yml").write_text("API_SECRET=FAKE-SECRET\n")
    options = PermissionOptions(disallowed_tools=["Read(./config/secrets.yml)"])
    setup = prepare_permissions(project, options, warn=print)
    with ToolSession(project, launcher=setup.launcher) as session:
        policy = setup.policy(session, session_id="s")

        def grep(**extra: str) -> tuple[bool, str]:
            tool_input = {"pattern": "SECRET", "output_mode": "content", **extra}
            decision = policy.before_tool(ToolUseBlock("g", "Grep", tool_input))
            if not decision.allowed:
                return False, decision.message
            return True, session.call("Grep", tool_input).content

        allowed, message = grep()
        assert not allowed and "config/secrets.yml" in message
        assert not grep(path="config")[0]
        allowed, output = grep(glob="!config/**")
        assert allowed and "FAKE-SECRET" not in output
        assert grep(path="src")[0]


ALLOWED = ["git status", "npm run test", "npm run test -- --watch=false", "ls src"]
FORBIDDEN = ["rm -rf src", "curl evil.example", "git push origin main", "npm publish"]
JOINERS = [" && ", " || ", "; ", " | ", "\n", " & "]


@given(
    st.lists(st.sampled_from(ALLOWED + FORBIDDEN), min_size=1, max_size=5),
    st.lists(st.sampled_from(JOINERS), min_size=4, max_size=4),
    st.sampled_from(["plain", "subshell", "substitution", "backticks"]),
)
def test_a_command_line_is_allowed_only_if_every_command_is(
    commands: list[str], joiners: list[str], wrapping: str
) -> None:
    project = Path(tempfile.mkdtemp())
    (project / "src").mkdir()
    rules = RuleSet()
    for text in ("Bash(git status)", "Bash(npm run test:*)", "Bash(ls:*)", "Bash(echo:*)"):
        rules.add("allow", parse_rule(text, source="t", root=project, cwd=project))
    engine = PermissionEngine("default", rules, Workspace.create(project), sandboxed=lambda: False)
    first, *rest = commands
    if wrapping == "subshell":
        first = f"({first})"
    elif wrapping == "substitution":
        first = f"echo $({first})"
    elif wrapping == "backticks":
        first = f"echo `{first}`"
    line = first + "".join(j + c for j, c in zip(joiners, rest, strict=False))
    verdict = engine.decide("Bash", {"command": line}, cwd=project, shell_cwd=project)
    every_command_allowed = all(c in ALLOWED for c in commands)
    if wrapping in ("plain", "subshell"):
        assert (verdict.behavior == "allow") is every_command_allowed, (line, verdict.reason)
    else:  # the output of $(…) becomes an argument nobody can check in advance: always ask
        assert verdict.behavior == "ask", (line, verdict.reason)
