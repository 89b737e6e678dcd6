"""Agent definitions: every frontmatter field, warnings and errors, discovery precedence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.definitions import (
    BUILTIN_AGENTS_DIR,
    BUILTIN_TOOLS,
    NAMED_COLORS,
    PERMISSION_MODES,
    DefinitionError,
    definition_from_fields,
    discover_agents,
    load_agent_file,
    load_agents_json,
    parse_color,
    select_agent,
    split_frontmatter,
)

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "tests" / "fixtures" / "seeds" / "backend-agent.md"  # the user's file, copied
BUILTIN = BUILTIN_AGENTS_DIR / "backend-agent.md"


def write_agent(
    directory: Path, filename: str, frontmatter: str, body: str = "You help.\n"
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    path.write_text(f"---\n{frontmatter.strip()}\n---\n{body}")
    return path


def load(tmp_path: Path, frontmatter: str) -> tuple[object, list[str]]:
    warnings: list[str] = []
    path = write_agent(tmp_path, "agent.md", frontmatter)
    return load_agent_file(path, warn=warnings.append), warnings


def test_builtin_agent_is_the_seed_unchanged() -> None:
    assert BUILTIN.read_bytes() == SEED.read_bytes()


def test_seed_file_loads_unchanged_with_every_field() -> None:
    warnings: list[str] = []
    seed = load_agent_file(SEED, warn=warnings.append)

    assert warnings == []
    assert seed.name == "backend-agent"
    assert seed.description.startswith("Global backend development agent")
    assert seed.tools == ("Bash", "Read", "Write", "Edit", "MultiEdit", "Glob", "Grep")
    assert seed.color == "#60A5FA"  # written unquoted, which YAML alone would read as a comment
    assert seed.model == "opus"
    assert seed.permission_mode == "default"
    body = SEED.read_text().split("---\n", 2)[2]
    assert seed.prompt.strip() == body.strip()
    for section in ("## Scope", "## Responsibilities", "## Report Template", "### Plan"):
        assert section in seed.prompt


def test_builtin_agent_runs_when_no_agent_is_named(tmp_path: Path) -> None:
    chosen = select_agent(tmp_path, home=tmp_path)
    assert chosen.name == "backend-agent" and chosen.source == "built-in"


def test_every_field_is_read(tmp_path: Path) -> None:
    definition, warnings = load(
        tmp_path,
        """
name: full
description: Uses every field
tools: [Read, Grep, mcp__git__git_status]
disallowedTools: Bash, Write
model: claude-sonnet-4-5-20250929
permissionMode: acceptEdits
color: "#0af"
maxTurns: 7
mcpServers:
  - git
  - docs: {command: docs-server, args: [--stdio]}
""",
    )
    assert warnings == []
    assert definition.__dict__ | {"path": None} == {
        "name": "full",
        "description": "Uses every field",
        "prompt": "You help.\n",
        "tools": ("Read", "Grep", "mcp__git__git_status"),
        "disallowed_tools": ("Bash", "Write"),
        "model": "claude-sonnet-4-5-20250929",
        "permission_mode": "acceptEdits",
        "color": "#00AAFF",
        "max_turns": 7,
        "mcp_servers": ("git", {"docs": {"command": "docs-server", "args": ["--stdio"]}}),
        "hooks": None,
        "source": "file",
        "path": None,
    }


@pytest.mark.parametrize(
    ("line", "expected"),
    [("tools: '*'", None), ("tools: Read, *", None), ("tools: ''", ()), ("", None)],
)
def test_tools_star_or_omitted_means_all(tmp_path: Path, line: str, expected: object) -> None:
    definition, _ = load(tmp_path, f"name: a\ndescription: d\n{line}")
    assert definition.tools == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("inherit", None), ("haiku", "haiku"), ("opus", "opus")]
)
def test_model_inherit_alias_or_id(tmp_path: Path, value: str, expected: object) -> None:
    definition, _ = load(tmp_path, f"name: a\ndescription: d\nmodel: {value}")
    assert definition.model == expected


def test_mcp_servers_as_a_mapping(tmp_path: Path) -> None:
    definition, _ = load(tmp_path, "name: a\ndescription: d\nmcpServers:\n  git: {command: g}")
    assert definition.mcp_servers == ({"git": {"command": "g"}},)


def test_unknown_tool_is_a_warning_naming_file_field_and_valid_values(tmp_path: Path) -> None:
    definition, warnings = load(tmp_path, "name: a\ndescription: d\ntools: Read, WebFetch")
    assert definition.tools == ("Read", "WebFetch")  # kept: never dropped silently
    (warning,) = warnings
    assert str(tmp_path / "agent.md") in warning
    assert "'tools'" in warning and "WebFetch" in warning
    assert all(tool in warning for tool in BUILTIN_TOOLS)


def test_invalid_permission_mode_is_a_warning_listing_valid_modes(tmp_path: Path) -> None:
    definition, warnings = load(tmp_path, "name: a\ndescription: d\npermissionMode: yolo")
    assert definition.permission_mode is None
    (warning,) = warnings
    assert "permissionMode" in warning and "yolo" in warning and "agent.md" in warning
    assert all(mode in warning for mode in PERMISSION_MODES)


def test_invalid_color_is_a_warning_listing_valid_colors(tmp_path: Path) -> None:
    definition, warnings = load(tmp_path, "name: a\ndescription: d\ncolor: mauve")
    assert definition.color is None
    (warning,) = warnings
    assert "'color'" in warning and "mauve" in warning and "agent.md" in warning
    assert all(name in warning for name in NAMED_COLORS) and "#60A5FA" in warning


def test_invalid_max_turns_and_unknown_fields_are_warnings(tmp_path: Path) -> None:
    definition, warnings = load(tmp_path, "name: a\ndescription: d\nmaxTurns: 0\nmood: happy")
    assert definition.max_turns is None
    assert any("maxTurns" in w for w in warnings)
    assert any("'mood'" in w and "unknown field" in w for w in warnings)


def test_hooks_that_are_not_a_mapping_are_a_warning(tmp_path: Path) -> None:
    definition, warnings = load(tmp_path, "name: a\ndescription: d\nhooks: [echo hi]")
    assert definition.hooks is None
    (warning,) = warnings
    assert "'hooks'" in warning and "agent.md" in warning and "ignored" in warning


@pytest.mark.parametrize("missing", ["name", "description"])
def test_missing_name_or_description_is_an_error_naming_the_file(
    tmp_path: Path, missing: str
) -> None:
    fields = {"name": "name: a", "description": "description: d"}
    del fields[missing]
    path = write_agent(tmp_path, "bad.md", "\n".join(fields.values()))
    with pytest.raises(DefinitionError) as error:
        load_agent_file(path)
    assert str(path) in str(error.value) and f"'{missing}'" in str(error.value)


def test_a_file_without_frontmatter_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.md"
    path.write_text("# Just markdown\n")
    with pytest.raises(DefinitionError, match="no frontmatter"):
        load_agent_file(path)


def test_frontmatter_that_is_not_strict_yaml_still_loads(tmp_path: Path) -> None:
    definition, _ = load(
        tmp_path,
        "name: helper\ndescription: Use when: the user asks for help: any kind\ntools: Read",
    )
    assert definition.description == "Use when: the user asks for help: any kind"
    assert definition.tools == ("Read",)


def test_discovery_precedence_project_over_user_over_builtin_and_agents_json_over_all(
    tmp_path: Path,
) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    user_dir, project_dir = home / ".claude" / "agents", project / ".claude" / "agents"
    write_agent(user_dir, "backend.md", "name: backend-agent\ndescription: user override")
    write_agent(user_dir, "shared.md", "name: shared\ndescription: from user")
    write_agent(project_dir, "shared.md", "name: shared\ndescription: from project")
    write_agent(user_dir, "mine.md", "name: mine\ndescription: only user")
    agents_json = json.dumps({"mine": {"description": "from --agents", "prompt": "P"}})

    agents = discover_agents(project, home=home, agents_json=agents_json)

    assert agents["backend-agent"].description == "user override"
    assert agents["backend-agent"].source == "user"
    assert agents["shared"].description == "from project" and agents["shared"].source == "project"
    assert agents["mine"].description == "from --agents" and agents["mine"].source == "cli"
    assert agents["mine"].prompt == "P"


def test_discovery_reports_and_skips_a_broken_file(tmp_path: Path) -> None:
    broken = write_agent(tmp_path / ".claude" / "agents", "broken.md", "name: broken")
    errors: list[str] = []
    agents = discover_agents(tmp_path, home=tmp_path / "home", error=errors.append)
    assert "broken" not in agents and "backend-agent" in agents
    (error,) = errors
    assert str(broken) in error and "'description'" in error


def test_unknown_agent_name_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"no agent named 'nope'.*backend-agent"):
        select_agent(tmp_path, name="nope", home=tmp_path)


def test_agents_json_errors_are_clear() -> None:
    with pytest.raises(DefinitionError, match=r"^--agents:1:2: invalid JSON: "):
        load_agents_json("{nope")
    with pytest.raises(DefinitionError, match="expected a JSON object"):
        load_agents_json("[]")
    with pytest.raises(DefinitionError, match="'prompt'"):
        load_agents_json('{"a": {"description": "d"}}')


@given(st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True))
def test_any_six_digit_hex_color_is_accepted(value: str) -> None:
    assert parse_color(value) == value.upper()


@given(st.lists(st.sampled_from(BUILTIN_TOOLS), min_size=1), st.sampled_from([",", ", ", " ,"]))
def test_comma_separated_tool_lists_keep_every_name_in_order(
    tools: list[str], separator: str
) -> None:
    text = f"---\nname: a\ndescription: d\ntools: {separator.join(tools)}\n---\nbody\n"
    fields, body = split_frontmatter(text, "test")
    assert definition_from_fields(fields, body, source="file", warn=pytest.fail).tools == tuple(
        tools
    )


def test_agents_command_lists_name_source_color_tools_and_model(tmp_path: Path) -> None:
    write_agent(
        tmp_path / "project" / ".claude" / "agents",
        "reviewer.md",
        "name: reviewer\ndescription: d\ntools: Read, Grep\ncolor: green\nmodel: haiku",
    )
    (tmp_path / "home").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "backend_agent", "agents", "--cwd", str(tmp_path / "project")],
        capture_output=True,
        text=True,
        env={
            "HOME": str(tmp_path / "home"),
            "PATH": "/usr/bin:/bin",
            "COLUMNS": "200",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
        check=True,
    )
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:]}
    assert rows["reviewer"][:5] == ["reviewer", "project", "██", "#22C55E", "haiku"]
    assert "Read, Grep" in done.stdout
    assert rows["backend-agent"][:5] == ["backend-agent", "built-in", "██", "#60A5FA", "opus"]


def test_agents_command_rejects_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [sys.executable, "-m", "backend_agent", "agents", "--cwd", str(missing)],
        capture_output=True,
        text=True,
        env={
            "HOME": str(tmp_path),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"backend-agent: error: --cwd {missing}: not a directory\n"


def test_settings_accept_exactly_the_permission_modes_of_agent_files(tmp_path: Path) -> None:
    """One list of modes (in definitions.py, so --help need not import pydantic) serves agent
    files, the flag and the settings schema."""
    from backend_agent.errors import UserError
    from backend_agent.permissions.settings import load_settings

    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    for mode in PERMISSION_MODES:
        settings.write_text(json.dumps({"permissions": {"defaultMode": mode}}))
        assert load_settings(tmp_path).default_mode == mode
    settings.write_text(json.dumps({"permissions": {"defaultMode": "yolo"}}))
    with pytest.raises(UserError) as error:
        load_settings(tmp_path)
    assert all(repr(mode) in str(error.value) for mode in PERMISSION_MODES)


def test_builtin_tool_names_are_the_tools_a_session_has(tmp_path: Path) -> None:
    """Unknown-tool warnings check against BUILTIN_TOOLS; a new tool must be listed there."""
    from backend_agent.tools import ToolSession

    with ToolSession(tmp_path) as session:
        assert sorted(session.tool_names) == sorted(BUILTIN_TOOLS)
