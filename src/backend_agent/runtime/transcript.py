"""The session transcript: one JSON record per line in ``$BACKEND_AGENT_HOME/sessions/<id>.jsonl``,
appended and flushed as the session goes, so nothing is lost if the process dies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from backend_agent.messages import valid_text
from backend_agent.runtime.agent import RunResult
from backend_agent.runtime.events import AgentEvent, PromptSent, ToolResultsSent, TurnEnd
from backend_agent.runtime.prompt import backend_agent_home
from backend_agent.runtime.records import assistant_record, result_record, user_record


def transcript_path(session_id: str) -> Path:
    """Where the session's JSONL transcript is written."""
    return backend_agent_home() / "sessions" / f"{session_id}.jsonl"


class Transcript:
    """Appends a session's records to its JSONL file, opened on the first record."""

    def __init__(self, session_id: str, path: Path | None = None) -> None:
        self.session_id = session_id
        self.path = path or transcript_path(session_id)
        self._file: IO[str] | None = None

    def write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(valid_text(json.dumps(record, ensure_ascii=False)) + "\n")
        self._file.flush()

    def on_event(self, event: AgentEvent) -> None:
        """Record whole messages (deltas and tool progress are not kept)."""
        if isinstance(event, TurnEnd):
            self.write(assistant_record(event, self.session_id))
        elif isinstance(event, PromptSent | ToolResultsSent):
            self.write(user_record(event, self.session_id))

    def on_result(self, result: RunResult) -> None:
        self.write(result_record(result))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
