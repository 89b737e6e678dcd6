"""The run command's arguments: help, tool lists, and every flag reaching RunOptions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.cli import SUBCOMMANDS
from backend_agent.commands.run import build_parser, options_from_args, split_tool_list
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


def test_every_flag_fills_run_options(tmp_path: Path) -> None:
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
            "--mcp-config=m.json",
            "--strict-mcp-config",
            "--debug",
        ]
    )
    options = options_from_args(args)
    assert (options.prompt, options.output_format) == ("do it", "stream-json")
    assert (options.agent, options.agent_file, options.agents_json) == (
        "reviewer",
        Path("agent.md"),
        '{"a": {}}',
    )
    assert options.cwd == tmp_path.resolve()
    assert (options.system_prompt, options.append_system_prompt) == ("S", "A")
    assert (options.model, options.base_url) == ("haiku", "http://127.0.0.1:1/v1")
    assert options.max_output_tokens == 2048
    assert (options.max_turns, options.max_budget_usd) == (3, 0.5)
    assert options.permission_mode == "plan"
    assert options.tools == ["Read", "Grep"]
    assert options.allowed_tools == ["Bash(git diff:*)", "Edit", "Write"]
    assert options.disallowed_tools == ["Bash(rm:*)"]
    assert options.settings == ["s.json", "{}"]
    assert options.add_dirs == [tmp_path.resolve()]
    assert options.mcp_configs == ["m.json"] and options.strict_mcp_config and options.debug


def test_without_p_there_is_no_prompt_and_tools_default_means_all() -> None:
    options = options_from_args(build_parser().parse_args(["--tools", "default"]))
    assert options.prompt is None and options.interactive
    assert options.tools is None


def test_p_without_a_prompt_is_a_user_error() -> None:
    with pytest.raises(UserError, match="-p needs a prompt"):
        options_from_args(build_parser().parse_args(["-p"]), stdin_prompt="  \n")


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
    options = options_from_args(args)
    assert options.prompt == "fix it"
    assert options.allowed_tools == ["Bash(git status:*)", "Bash(echo:*)"]
    assert options.tools == ["Read"]
