"""Completion at the prompt: ``/`` commands (built-in and custom) and ``@`` paths.

Paths complete from the directory typed so far; a bare name (``@handl``) also finds files
anywhere in the project whose name contains it, from a walk that skips dependency and build
directories and stops after ``MAX_FILES``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

MAX_FILES = 20_000
MAX_MATCHES = 50
SKIPPED_DIRS = frozenset(
    {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", "dist", "build", "target"}
)
_MENTION = re.compile(r"(?:^|\s)@(\S*)$")


class PromptCompleter(Completer):
    """Completes the first word as a command and any ``@word`` as a path under ``cwd``.

    ``commands`` gives ``(name, description)`` of every command when asked (custom commands
    may change while the session runs).
    """

    def __init__(self, cwd: Path, commands: Callable[[], list[tuple[str, str]]]) -> None:
        self.cwd = cwd
        self.commands = commands
        self._files: list[str] | None = None

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        before = document.text_before_cursor
        if before.startswith("/") and not any(c.isspace() for c in before):
            typed = before[1:]
            for name, description in self.commands():
                if name.startswith(typed):
                    yield Completion(
                        f"/{name}", -len(before), display=f"/{name}", display_meta=description
                    )
            return
        mention = _MENTION.search(before)
        if mention is not None:
            partial = mention.group(1)
            for path in self.paths(partial):
                yield Completion(f"@{path}", -len(partial) - 1, display=path)

    def paths(self, partial: str) -> list[str]:
        """Paths (relative to ``cwd``, directories ending in ``/``) that ``partial`` may mean."""
        found = list(self._listing(partial))
        if "/" not in partial and partial:
            needle = partial.lower()
            found += [f for f in self._project_files() if needle in Path(f).name.lower()]
        unique = list(dict.fromkeys(found))
        return unique[:MAX_MATCHES]

    def _listing(self, partial: str) -> Iterator[str]:
        head, _, name = partial.rpartition("/")
        directory = self.cwd / head if head else self.cwd
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if not entry.name.startswith(name):
                continue
            if entry.name.startswith(".") and not name.startswith("."):
                continue
            path = f"{head}/{entry.name}" if head else entry.name
            yield f"{path}/" if entry.is_dir() else path

    def _project_files(self) -> list[str]:
        if self._files is None:
            self._files = _walk(self.cwd)
        return self._files


def _walk(root: Path) -> list[str]:
    files: list[str] = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith("."))
        relative = os.path.relpath(directory, root)
        for name in sorted(names):
            files.append(name if relative == "." else f"{relative}/{name}")
            if len(files) >= MAX_FILES:
                return files
    return files
