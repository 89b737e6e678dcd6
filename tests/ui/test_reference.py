"""The one table of commands and keys: /help and docs/interactive.md both come from it."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from backend_agent.ui import slash
from backend_agent.ui.reference import (
    COMMANDS,
    KEYS,
    find_command,
    help_renderable,
    reference_markdown,
    with_reference,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "interactive.md"
UI = ROOT / "src" / "backend_agent" / "ui"


def test_the_doc_holds_the_current_table() -> None:
    page = DOC.read_text(encoding="utf-8")
    assert reference_markdown() in page, (
        "docs/interactive.md is out of date: run "
        "`python -m backend_agent.ui.reference docs/interactive.md`"
    )
    assert with_reference(page) == page


def test_every_command_has_a_handler_and_every_handler_a_row() -> None:
    assert {c.name for c in COMMANDS} == set(slash.HANDLERS)
    assert find_command("quit") is find_command("exit")
    assert find_command("nosuch") is None


def test_help_shows_every_command_key_and_custom_command() -> None:
    screen = io.StringIO()
    Console(file=screen, width=200).print(help_renderable([("/fix <issue>", "Fix it (project)")]))
    text = screen.getvalue()
    for command in COMMANDS:
        assert command.usage in text
    for key in KEYS:
        assert key.keys in text
    assert "/fix <issue>" in text and "Fix it (project)" in text


def test_commands_are_one_word_without_another_slash() -> None:
    assert slash.parse("/compact keep the plan") == ("compact", "keep the plan")
    assert slash.parse("  /help  ") == ("help", "")
    assert slash.parse("/git:show-file HEAD a.py") == ("git:show-file", "HEAD a.py")
    assert slash.parse("/usr/bin/env is missing") is None
    assert slash.parse("please /help") is None


def test_ui_modules_stay_small() -> None:
    for module in UI.glob("*.py"):
        lines = len(module.read_text(encoding="utf-8").splitlines())
        assert lines < 500, f"{module.name} has {lines} lines: split it"
