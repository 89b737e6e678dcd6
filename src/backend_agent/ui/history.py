"""The prompt history: one file (``~/.backend-agent/history``) holding every project's prompts,
each line a JSON object; Up and Down walk only the current project's.

Lines are appended with one ``write`` each, so several sessions can add to the file at once;
when it grows past ``MAX_ENTRIES`` the oldest entries are dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit.history import History

MAX_ENTRIES = 5000


class ProjectHistory(History):
    """The prompts typed in ``project``, newest first, kept in the shared history ``file``."""

    def __init__(self, file: Path, project: Path) -> None:
        super().__init__()
        self.file = file
        self.project = str(project)

    def load_history_strings(self) -> Iterable[str]:
        entries = self._read()
        if len(entries) > MAX_ENTRIES:
            entries = entries[-MAX_ENTRIES:]
            self._rewrite(entries)
        mine = [e["prompt"] for e in entries if e.get("project") == self.project]
        return list(reversed(mine))

    def store_string(self, string: str) -> None:
        line = json.dumps({"project": self.project, "prompt": string}, ensure_ascii=False)
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:  # a history that cannot be written must not stop the session
            return

    def _read(self) -> list[dict[str, str]]:
        try:
            text = self.file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        entries = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: skip it
            if isinstance(entry, dict) and isinstance(entry.get("prompt"), str):
                entries.append(entry)
        return entries

    def _rewrite(self, entries: list[dict[str, str]]) -> None:
        temporary = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        try:
            text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, self.file)
        except OSError:
            temporary.unlink(missing_ok=True)
