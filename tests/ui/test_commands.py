"""The slash commands and keys, in process: keys piped into the prompt, the screen a string.

The scripted model answers; what it was sent is read back from the session's transcript.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from backend_agent import paths
from backend_agent.mcp.startup import McpOptions
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions
from backend_agent.sessions.config import AgentChoice, SessionConfig
from backend_agent.ui.interactive import run_interactive

END = "\x04"  # Ctrl-D
CTRL_C = "\x03"
CTRL_O = "\x0f"
DEMO_SERVER = Path(__file__).parents[1] / "mcp" / "servers" / "demo_server.py"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def script(tmp_path: Path, turns: list[Any], name: str = "script", **extra: Any) -> str:
    path = tmp_path / f"{name}.yaml"
    data = {"model": extra.pop("model", "claude-haiku-4-5"), "turns": turns, **extra}
    path.write_text(yaml.safe_dump(data))
    return f"scripted:{path}"


def converse(project: Path, model: str, keys: str, **options: Any) -> tuple[int, str]:
    """Run the interactive mode with ``keys`` typed; (exit status, the screen as text)."""
    screen = io.StringIO()
    config = SessionConfig(
        cwd=project,
        model=ModelChoice(model),
        permissions=PermissionOptions(mode=options.pop("mode", None)),
        **options,
    )
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        status = run_interactive(
            config, input=pipe, output=DummyOutput(), console=Console(file=screen, width=120)
        )
    return status, "\n".join(line.rstrip() for line in screen.getvalue().splitlines())


def transcripts(project: Path) -> list[list[dict[str, Any]]]:
    """Every session transcript of the project, oldest first, as lists of entries."""
    directory = paths.project_dir(project.resolve())
    files = sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime_ns)
    return [[json.loads(line) for line in f.read_text().splitlines()] for f in files]


def prompts_sent(entries: list[dict[str, Any]]) -> list[str]:
    return [e["prompt"] for e in entries if e.get("origin") == "prompt"]


def test_status_shows_what_runs_where(project: Path, tmp_path: Path) -> None:
    _, screen = converse(project, script(tmp_path, []), "/status\r" + END)
    (entries,) = transcripts(project)
    session_id = entries[0]["sessionId"]
    assert re.search(r"version\s+backend-agent \d", screen)
    assert re.search(r"model\s+claude-haiku-4-5", screen)
    assert re.search(rf"directory\s+{re.escape(str(project.resolve()))}", screen)
    assert re.search(r"permission mode\s+default", screen)
    assert re.search(r"sandbox\s+(bubblewrap|landlock|none)", screen)
    assert re.search(rf"session\s+{session_id}", screen)


def test_model_switches_for_the_next_turn_and_stays_after_clear(
    project: Path, tmp_path: Path
) -> None:
    first = script(tmp_path, ["from the first model"])
    second = script(tmp_path, ["from the second"], "second", model="claude-x-1")
    keys = f"one\r/model {second}\rtwo\r/clear\rthree\r/model\r" + END
    _, screen = converse(project, first, keys)
    assert screen.index("from the first model") < screen.index("Model: claude-x-1 (from the next")
    assert screen.index("from the second") < screen.index("New conversation")
    assert screen.count("from the second") == 2  # /clear kept the switched model
    assert screen.rstrip().endswith(
        "/model <name> switches for the next turn: opus, sonnet, haiku, claude-…, openai:<id>"
    )


def test_agents_lists_and_switches_with_the_conversation_going_on(
    project: Path, tmp_path: Path
) -> None:
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text(
        "---\nname: reviewer\ndescription: Reviews changes\ncolor: green\n---\nYou review.\n"
    )
    model = script(tmp_path, ["first answer", "the reviewer answers"])
    _, screen = converse(
        project, model, "one\r/agents\r/agents reviewer\rtwo\r/agents nobody\r" + END
    )
    assert re.search(r"●\s+backend-agent\s+built-in", screen)
    assert re.search(r"reviewer\s+project\s+inherit\s+Reviews changes", screen)
    assert "Agent: reviewer (the conversation goes on)" in screen
    assert "no agent named 'nobody'" in screen
    (entries,) = transcripts(project)  # one conversation, in one transcript
    assert prompts_sent(entries) == ["one", "two"]
    inits = [e["agent"] for e in entries if e.get("subtype") == "init"]
    assert inits == ["backend-agent", "reviewer"]
    prompts = [e["text"] for e in entries if e.get("subtype") == "system_prompt"]
    assert prompts[-1].startswith("You review.")


def test_permissions_adds_and_removes_an_allow_rule_in_the_local_settings(
    project: Path, tmp_path: Path
) -> None:
    call = {"tool_calls": [{"name": "Bash", "input": {"command": "git --version"}}]}
    model = script(tmp_path, [call, "ran it"])
    keys = "/permissions allow Bash(git --version)\r/permissions\rcheck git\r"
    keys += "/permissions remove Bash(git --version)\r" + END
    _, screen = converse(project, model, keys)
    local = project / ".claude" / "settings.local.json"
    assert "Allowed Bash(git --version) (saved to" in screen
    assert re.search(r"Bash\(git --version\)\s+allow\s+\./\.claude/settings\.local\.json", screen)
    assert "Needs approval" not in screen and "ran it" in screen
    assert "Removed Bash(git --version)" in screen
    assert json.loads(local.read_text())["permissions"]["allow"] == []


def test_memory_opens_a_memory_file_in_the_editor(project: Path, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\necho "- use pnpm, not npm" >> "$1"\n')
    editor.chmod(0o755)
    (project / "CLAUDE.md").write_text("# Project notes\n")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("EDITOR", str(editor))
    try:
        _, screen = converse(project, script(tmp_path, []), "/memory\r2\r" + END)
    finally:
        monkeypatch.undo()
    assert re.search(r"1\.\s+CLAUDE\.md", screen) and re.search(
        r"2\.\s+AGENTS\.md\s+\(new\)", screen
    )
    assert (project / "AGENTS.md").read_text() == "- use pnpm, not npm\n"
    assert (project / "CLAUDE.md").read_text() == "# Project notes\n"


def test_init_writes_agents_md_from_the_code_and_keeps_an_existing_one(
    project: Path, tmp_path: Path
) -> None:
    (project / "requirements.txt").write_text("fastapi\npytest\n")
    (project / "main.py").write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        '@app.get("/health")\ndef health():\n    return {}\n'
    )
    (project / "tests").mkdir()
    (project / "tests" / "test_main.py").write_text("def test_ok():\n    assert True\n")
    _, screen = converse(project, script(tmp_path, []), "/init\r/init\r" + END)
    text = (project / "AGENTS.md").read_text()
    assert "- Frameworks: FastAPI" in text
    assert "- `python -m pytest`: pytest" in text
    assert "| GET | `/health` |" in text
    assert f"Wrote {project.resolve() / 'AGENTS.md'}" in screen
    assert "exists; keep it, or add --force to replace it" in " ".join(screen.split())


def test_mcp_shows_servers_and_reconnects_one_that_stopped(project: Path, tmp_path: Path) -> None:
    servers = {
        "mcpServers": {"demo": {"command": sys.executable, "args": [str(DEMO_SERVER), "stdio"]}}
    }
    crash = {"tool_calls": [{"name": "mcp__demo__crash", "input": {}}]}
    echo = {"tool_calls": [{"name": "mcp__demo__echo", "input": {"text": "back"}}]}
    model = script(tmp_path, [crash, "it crashed", echo, "echoed"])
    keys = "/mcp\rcrash it\r/mcp\r/mcp reconnect demo\recho\r/mcp reconnect nobody\r" + END
    _, screen = converse(
        project,
        model,
        keys,
        mode="bypassPermissions",
        mcp=McpOptions(configs=[json.dumps(servers)]),
    )
    tables = screen.split("/mcp reconnect <server> restarts one")
    assert re.search(r"demo\s+connected\s+--mcp-config\s+.*echo", tables[0])
    assert re.search(r"demo\s+lost", tables[1])
    assert re.search(r"demo: connected, \d+ tools", screen)
    assert "● mcp__demo__echo(back)" in screen and "⎿ back" in screen
    assert "no MCP server named 'nobody'" in screen


def test_resume_continues_an_earlier_session_of_the_directory(
    project: Path, tmp_path: Path
) -> None:
    converse(project, script(tmp_path, ["noted"], "a"), "remember the port\r" + END)
    model = script(tmp_path, ["fresh", "continued"], "b")
    _, screen = converse(project, model, "another thing\r/resume\r1\rand then?\r" + END)
    assert "Resume which session?" in screen and "remember the port" in screen
    conversations = sorted(prompts_sent(entries) for entries in transcripts(project))
    assert conversations == [["another thing"], ["remember the port", "and then?"]]


def test_ctrl_c_clears_the_line_and_twice_on_an_empty_prompt_exits(
    project: Path, tmp_path: Path
) -> None:
    status, _ = converse(project, script(tmp_path, []), "half a thought" + CTRL_C + CTRL_C + CTRL_C)
    assert status == 0
    assert transcripts(project)[0][-1]["type"] != "user"  # nothing was sent


def test_unknown_words_send_nothing_but_a_path_is_a_prompt(project: Path, tmp_path: Path) -> None:
    model = script(tmp_path, ["about that path"])
    _, screen = converse(project, model, "/nosuch thing\r/usr/bin/env is missing\r" + END)
    assert "Unknown command /nosuch: nothing was sent." in screen
    (entries,) = transcripts(project)
    assert prompts_sent(entries) == ["/usr/bin/env is missing"]


def test_custom_commands_fill_in_arguments_and_allow_their_tools(
    project: Path, tmp_path: Path, isolated_home: Path
) -> None:
    commands = project / ".claude" / "commands"
    (commands / "git").mkdir(parents=True)
    (commands / "git" / "show-file.md").write_text(
        "---\ndescription: Show a file at a revision\nargument-hint: <rev> <path>\n"
        "allowed-tools: Bash(git --version)\n---\nShow $2 as of $1 (all: $ARGUMENTS).\n"
    )
    user = isolated_home / ".claude" / "commands"
    user.mkdir(parents=True)
    (user / "hello.md").write_text("Say hello")
    call = {"tool_calls": [{"name": "Bash", "input": {"command": "git --version"}}]}
    model = script(tmp_path, [call, "shown", "hello"])
    keys = '/help\r/show-file HEAD~1 "app/main.py"\r/hello there\r' + END
    _, screen = converse(project, model, keys)
    assert re.search(r"/show-file <rev> <path>\s+Show a file at a revision \(project:git\)", screen)
    assert re.search(r"/hello\s+Say hello \(user\)", screen)
    assert "Needs approval" not in screen  # the command's allowed-tools
    (entries,) = transcripts(project)
    assert prompts_sent(entries) == [
        'Show app/main.py as of HEAD~1 (all: HEAD~1 "app/main.py").',
        "Say hello\n\nthere",
    ]


def test_context_and_compact(project: Path, tmp_path: Path) -> None:
    model = script(tmp_path, ["a long answer " * 50], summary="We talked at length.")
    _, screen = converse(project, model, "talk\r/context\r/compact the answer\r/context\r" + END)
    before = screen.split("Compaction: automatic")[0]
    for part in ("system prompt", "memory files", "tool definitions", "messages", "free"):
        assert part in before
    assert re.search(r"Context compacted on request: [\d,]+ → [\d,]+ tokens", screen)
    used = [int(n.replace(",", "")) for n in re.findall(r"· ([\d,]+) of [\d,]+ tokens", screen)]
    assert len(used) == 2 and used[1] < used[0]


def test_cost_is_per_model_with_the_cache_share(project: Path, tmp_path: Path) -> None:
    usage = {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 300}
    first = script(tmp_path, [{"text": "one", "usage": usage}])
    second = script(tmp_path, [{"text": "two", "usage": usage}], "b", model="local-model")
    _, screen = converse(project, first, f"a\r/model {second}\rb\r/cost\r" + END)
    assert re.search(r"claude-haiku-4-5\s+1\s+400\s+75%\s+50\s+\$0\.\d{4}", screen)
    assert re.search(r"local-model\s+1\s+400\s+75%\s+50\s+\$0\.0000", screen)


def test_todos_and_ctrl_o_show_what_the_turn_left(project: Path, tmp_path: Path) -> None:
    plan = [{"content": "Ship it", "status": "pending", "activeForm": "Shipping it"}]
    turns = [
        {
            "tool_calls": [
                {"name": "TodoWrite", "input": {"todos": plan}},
                {"name": "Bash", "input": {"command": "seq 1 12"}},
            ]
        },
        "listed",
    ]
    model = script(tmp_path, turns)
    agent = project / ".claude" / "agents" / "planner.md"  # lists no tools: TodoWrite included
    agent.parent.mkdir(parents=True)
    agent.write_text("---\nname: planner\ndescription: plans\n---\nPlan, then do.\n")
    keys = "go\r/todos\r" + CTRL_O + END
    _, screen = converse(
        project, model, keys, mode="bypassPermissions", agent=AgentChoice(name="planner")
    )
    assert screen.count("☐ Ship it") == 2  # when it changed, and on /todos
    assert "… +9 lines (ctrl+o to expand)" in screen
    assert "\n    12" in screen.split("☐ Ship it")[2]  # Ctrl-O: the whole output


def test_warnings_are_in_the_banner_before_the_first_prompt(project: Path, tmp_path: Path) -> None:
    broken = {"mcpServers": {"broken": {"command": str(tmp_path / "no-such-server")}}}
    options = PermissionOptions(sandbox="off")
    model = script(tmp_path, ["answered"])
    screen = io.StringIO()
    config = SessionConfig(
        cwd=project,
        model=ModelChoice(model),
        permissions=options,
        mcp=McpOptions(configs=[json.dumps(broken)]),
    )
    with create_pipe_input() as pipe:
        pipe.send_text("hi\r" + END)
        run_interactive(config, input=pipe, output=DummyOutput(), console=Console(file=screen))
    text = screen.getvalue()
    hint = text.index("/help for commands")
    assert text.index("⚠ shell commands are NOT sandboxed") < hint
    assert text.index("⚠ MCP server 'broken'") < hint < text.index("answered")


def test_a_custom_commands_model_answers_its_prompt_only(project: Path, tmp_path: Path) -> None:
    other = script(tmp_path, ["from the command's model"], "other", model="claude-other-1")
    commands = project / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "ask-other.md").write_text(f"---\nmodel: {other}\n---\nAnswer this")
    model = script(tmp_path, ["from the session's model"])
    _, screen = converse(project, model, "/ask-other\rnext\r/status\r" + END)
    assert screen.index("from the command's model") < screen.index("from the session's model")
    assert re.search(r"model\s+claude-haiku-4-5", screen)
