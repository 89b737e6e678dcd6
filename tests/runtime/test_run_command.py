"""The run command's arguments: help, tool lists, and every flag reaching its owner's config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.cli import SUBCOMMANDS
from backend_agent.commands.run import (
    build_parser,
    config_from_args,
    headless_options,
    split_tool_list,
)
from backend_agent.errors import UserError


def test_help_lists_every_subcommand_without_loading_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from backend_agent.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('rich', 'yaml', 'pydantic', 'prompt_toolkit', 'anthropic', 'openai', 'mcp')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "[]"
    for name, text in SUBCOMMANDS.items():
        assert f"  {name}" in done.stdout and text in done.stdout


def test_every_flag_reaches_the_part_that_owns_it(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "-p",
            "do it",
            "--output-format=stream-json",
            "--agent=reviewer",
            "--agent-file=agent.md",
            '--agents={"a": {}}',
            f"--cwd={tmp_path}",
            "--system-prompt=S",
            "--append-system-prompt=A",
            "--model=haiku",
            "--base-url=http://127.0.0.1:1/v1",
            "--max-output-tokens=2048",
            "--max-turns=3",
            "--max-budget-usd=0.5",
            "--permission-mode=plan",
            "--tools=Read,Grep",
            "--allowedTools=Bash(git diff:*) Edit",
            "--allowedTools=Write",
            "--disallowedTools=Bash(rm:*)",
            "--settings=s.json",
            "--settings={}",
            f"--add-dir={tmp_path}",
            "--sandbox=off",
            "--mcp-config=m.json",
            "--strict-mcp-config",
            "--resume=abc",
            "--fork-session",
            "--session-id=0d6a3d0e-5f7c-4a43-9b61-3a3a51c7a9b1",
            "--debug",
        ]
    )
    headless = headless_options(args)
    assert headless is not None
    assert (headless.prompt, headless.output_format, headless.debug) == (
        "do it",
        "stream-json",
        True,
    )
    config = config_from_args(args)
    agent = config.agent
    assert (agent.name, agent.file, agent.agents_json) == (
        "reviewer",
        Path("agent.md"),
        '{"a": {}}',
    )
    assert (agent.system_prompt, agent.append_system_prompt) == ("S", "A")
    assert agent.tools == ["Read", "Grep"]
    assert config.cwd == tmp_path.resolve()
    assert (config.model.name, config.model.base_url) == ("haiku", "http://127.0.0.1:1/v1")
    assert config.model.max_output_tokens == 2048
    assert (config.limits.max_turns, config.limits.max_budget_usd) == (3, 0.5)
    permissions = config.permissions
    assert permissions.mode == "plan" and permissions.sandbox == "off"
    assert permissions.allowed_tools == ["Bash(git diff:*)", "Edit", "Write"]
    assert permissions.disallowed_tools == ["Bash(rm:*)"]
    assert permissions.add_dirs == [tmp_path.resolve()]
    assert config.settings == ["s.json", "{}"]
    assert config.mcp.configs == ["m.json"] and config.mcp.strict
    resume = config.resume
    assert (resume.session, resume.fork, resume.latest) == ("abc", True, False)
    assert resume.new_id == "0d6a3d0e-5f7c-4a43-9b61-3a3a51c7a9b1"


def test_without_p_there_is_no_prompt_and_tools_default_means_all() -> None:
    args = build_parser().parse_args(["--tools", "default"])
    assert headless_options(args) is None
    assert config_from_args(args).agent.tools is None


def test_p_without_a_prompt_is_a_user_error() -> None:
    with pytest.raises(UserError, match="-p needs a prompt"):
        headless_options(build_parser().parse_args(["-p"]), stdin_prompt="  \n")


def test_continue_and_resume_flags() -> None:
    assert config_from_args(build_parser().parse_args(["-c"])).resume.latest
    picker = build_parser().parse_args(["-r"])
    assert picker.resume == "" and config_from_args(picker).resume.session is None
    with pytest.raises(UserError, match="-p --resume needs a session id"):
        headless_options(build_parser().parse_args(["-p", "go", "-r"]))


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--max-turns=0", "--max-turns: expected a positive whole number, got '0'"),
        ("--max-output-tokens=0", "--max-output-tokens: expected a positive whole number"),
        ("--max-turns=ten", "--max-turns: expected a positive whole number, got 'ten'"),
        ("--max-budget-usd=-1", "--max-budget-usd: expected a positive number, got '-1'"),
        ("--max-budget-usd=nan", "--max-budget-usd: expected a positive number, got 'nan'"),
        ("--permission-mode=yolo", "--permission-mode: invalid choice: 'yolo'"),
    ],
)
def test_invalid_values_are_rejected_by_the_parser(
    flag: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["-p", "x", flag])
    assert message in capsys.readouterr().err


names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True)
rules = st.from_regex(r"[a-z][a-z :*./-]{0,15}", fullmatch=True)
entries = st.one_of(names, st.builds(lambda n, r: f"{n}({r})", names, rules))


@given(st.lists(entries, min_size=1, max_size=6), st.sampled_from([",", " ", ", ", " , "]))
def test_tool_lists_split_on_commas_and_spaces_but_not_inside_rules(
    items: list[str], sep: str
) -> None:
    assert split_tool_list([sep.join(items)]) == items


def test_tool_lists_take_several_arguments_like_claude() -> None:
    args = build_parser().parse_args(
        ["-p", "fix it", "--allowedTools", "Bash(git status:*)", "Bash(echo:*)", "--tools", "Read"]
    )
    headless = headless_options(args)
    assert headless is not None and headless.prompt == "fix it"
    config = config_from_args(args)
    assert config.permissions.allowed_tools == ["Bash(git status:*)", "Bash(echo:*)"]
    assert config.agent.tools == ["Read"]
