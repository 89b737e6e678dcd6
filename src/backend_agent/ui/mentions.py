"""``@path`` mentions: the files (or directories) a prompt names, attached to it.

A file is read as the Read tool reads it (numbered lines, the same size limits), and counts as
read, so the agent can edit it without reading it again; a directory is attached as a listing.
A mention that names nothing on disk stays plain text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from backend_agent.sessions.session import Session
from backend_agent.tools.files import Read

MAX_LISTING = 200
_MENTION = re.compile(r"(?:^|(?<=\s))@(\S+)")
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class Attachment:
    """What a mention attached: the path as typed, and a short note (or the problem)."""

    path: str
    note: str
    ok: bool = True


def mentioned_paths(text: str, cwd: Path) -> list[tuple[str, Path]]:
    """``(as typed, resolved path)`` of each ``@mention`` that names something on disk;
    punctuation after a mention (``@app.py,``) is left out when that makes it a path."""
    found: list[tuple[str, Path]] = []
    for match in _MENTION.finditer(text):
        typed = match.group(1)
        while typed:
            path = Path(os.path.normpath(cwd / Path(typed).expanduser()))
            if path.exists():
                if all(path != known for _, known in found):
                    found.append((typed, path))
                break
            if typed[-1] not in _TRAILING:
                break
            typed = typed[:-1]
    return found


def attach_mentions(text: str, session: Session) -> list[Attachment]:
    """Add the content of every path ``text`` mentions to the session's next prompt."""
    attachments = []
    for typed, path in mentioned_paths(text, session.cwd):
        if path.is_dir():
            body, note = _listing(path)
            tag = "attached-directory"
        else:
            result = Read().run({"file_path": str(path)}, session.tools)
            if result.is_error or result.images:
                problem = "images are not attached (ask the agent to Read it)"
                if result.is_error:
                    problem = _plain(result.content)
                attachments.append(Attachment(typed, problem, ok=False))
                continue
            body, tag = result.content, "attached-file"
            note = f"{len(path.read_bytes().splitlines())} lines"
        session.add_context(f'<{tag} path="{typed}">\n{body}\n</{tag}>')
        attachments.append(Attachment(typed, note))
    return attachments


def _listing(path: Path) -> tuple[str, str]:
    try:
        names = sorted(
            f"{entry.name}/" if entry.is_dir() else entry.name for entry in os.scandir(path)
        )
    except OSError as error:
        return f"(cannot list it: {error.strerror})", "cannot be listed"
    shown = names[:MAX_LISTING]
    if len(names) > MAX_LISTING:
        shown.append(f"... and {len(names) - MAX_LISTING} more")
    return "\n".join(shown), f"directory, {len(names)} entries"


def _plain(content: str) -> str:
    return content.replace("<tool_use_error>", "").replace("</tool_use_error>", "").strip()
