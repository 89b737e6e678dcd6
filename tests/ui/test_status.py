"""The status line: what it says, and what it keeps on a narrow terminal; the mode cycle."""

from __future__ import annotations

from pathlib import Path

from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.session import Session
from backend_agent.ui.status import next_mode, status_text


def test_the_line_shortens_then_drops_pieces_to_fit(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text("model: claude-haiku-4-5\nturns: [ok]\n")
    config = SessionConfig(
        cwd=tmp_path,
        model=ModelChoice(f"scripted:{script}"),
        permissions=PermissionOptions(mode="acceptEdits", sandbox="off"),
    )
    with Session.open(config) as session:
        wide = status_text(session, 42, 200).plain
        narrow = status_text(session, 42, 80).plain
    assert wide == (
        "backend-agent · claude-haiku-4-5 · ⏵⏵ accept edits (shift+tab) · not sandboxed"
        " · context 42% · $0.0000"
    )
    assert narrow == "claude-haiku-4-5 · ⏵⏵ accept edits · not sandboxed · ctx 42% · $0.00"
    # the agent's name goes before the warning that nothing is sandboxed


def test_shift_tab_cycles_three_modes_and_the_one_the_session_started_in() -> None:
    assert [next_mode(m, "default") for m in ("default", "acceptEdits", "plan")] == [
        "acceptEdits",
        "plan",
        "default",
    ]
    assert next_mode("plan", "bypassPermissions") == "bypassPermissions"
    assert next_mode("bypassPermissions", "bypassPermissions") == "default"
    assert next_mode("dontAsk", "default") == "default"
