"""A session's transcript: entries written as the session goes, and read back to resume it.

Each entry is a stream-json record (``system/init``, ``user``, ``assistant``,
``system/compact_boundary``, ``result``) or a session record (``system/system_prompt``,
``system/rewind``), wrapped with ``uuid``,
``parentUuid``, ``sessionId``, ``timestamp``, ``cwd`` and ``gitBranch``. Entries form a tree by
``parentUuid``: the conversation is the branch that ends at the last entry written, so a
conversation rewind starts a new branch and the old one stays in the file. A compaction
boundary holds the compacted conversation: reading back starts over from it.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend_agent.messages import Message
from backend_agent.runtime.events import (
    AgentEvent,
    ContextCompacted,
    PromptSent,
    ToolResultsSent,
    TurnEnd,
)
from backend_agent.runtime.records import (
    assistant_record,
    compact_boundary_record,
    message_from_dict,
    message_to_dict,
    user_record,
)
from backend_agent.sessions.store import CorruptSession, Entry, SessionStore

Warn = Callable[[str], None]


def now() -> str:
    """The current time as ISO 8601 UTC with milliseconds (``2025-06-01T12:00:00.123Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def git_branch(cwd: Path) -> str:
    """The checked-out branch of the repository at ``cwd`` ('' outside one, or detached)."""
    try:
        done = subprocess.run(
            ["git", "symbolic-ref", "--short", "--quiet", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


class Transcript:
    """Writes one session's entries to its store, each chained to the one before.

    A store that fails (disk full, permissions) is reported once through ``warn``; the session
    goes on without a transcript rather than stopping mid-turn.
    """

    def __init__(
        self,
        store: SessionStore,
        session_id: str,
        *,
        cwd: Path,
        head: str | None = None,
        warn: Warn,
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.cwd = cwd
        self.branch = git_branch(cwd)
        self.head = head  # the uuid of the last entry: the parent of the next one
        self.warn = warn
        self.broken = False

    def write(self, record: dict[str, Any]) -> str:
        """Append ``record`` as the next entry of the conversation; returns its uuid."""
        entry = {
            **record,
            "uuid": str(uuid.uuid4()),
            "parentUuid": self.head,
            "sessionId": self.session_id,
            "timestamp": now(),
            "cwd": str(self.cwd),
            "gitBranch": self.branch,
        }
        self.append([entry])
        self.head = entry["uuid"]
        return str(entry["uuid"])

    def append(self, entries: list[Entry]) -> None:
        """Store entries as they are (e.g. a forked session's history)."""
        if self.broken:
            return
        try:
            self.store.append(self.session_id, entries)
        except OSError as error:
            self.broken = True
            self.warn(f"the session transcript cannot be written ({error}); it stops here")

    def record(self, event: AgentEvent, **extra: Any) -> None:
        """Record whole messages (deltas and tool progress are not kept)."""
        if isinstance(event, TurnEnd):  # with what the turn cost, for /cost
            self.write({**assistant_record(event, self.session_id), "costUSD": event.cost_usd})
        elif isinstance(event, PromptSent):
            self.write({**user_record(event, self.session_id), "origin": event.origin, **extra})
        elif isinstance(event, ToolResultsSent):
            self.write({**user_record(event, self.session_id), "origin": "tool_results"})
        elif isinstance(event, ContextCompacted):
            compaction = event.compaction
            boundary = compact_boundary_record(compaction, self.session_id)
            messages = [message_to_dict(m) for m in compaction.messages]
            self.write({**boundary, "summary": compaction.summary, "messages": messages})
            self.write(
                {"type": "system", "subtype": "system_prompt", "text": compaction.system_prompt}
            )


@dataclass(frozen=True)
class PromptPoint:
    """One user prompt of the conversation, and where to go back to before it."""

    number: int  # 1 for the first prompt of the conversation
    text: str
    timestamp: str
    parent: str | None  # the entry before the prompt: the conversation as it was then
    checkpoint: str | None  # the work tree just before the prompt


@dataclass(frozen=True)
class SessionSummary:
    """What a session list shows: when, where, what was asked, how long and how costly."""

    id: str
    cwd: str
    started: str
    last_activity: str
    first_prompt: str
    turns: int
    cost_usd: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cwd": self.cwd,
            "started": self.started,
            "last_activity": self.last_activity,
            "first_prompt": self.first_prompt,
            "turns": self.turns,
            "cost_usd": self.cost_usd,
        }


@dataclass
class SessionLog:
    """A transcript read back: the conversation on its current branch, and what it cost."""

    session_id: str
    entries: list[Entry]
    chain: list[Entry] = field(default_factory=list)  # the current branch, oldest first
    messages: list[Message] = field(default_factory=list)
    prompts: list[PromptPoint] = field(default_factory=list)
    system_prompt: str | None = None
    agent: str | None = None

    @property
    def head(self) -> str | None:
        return str(self.entries[-1]["uuid"]) if self.entries else None

    @property
    def cwd(self) -> str:
        return str(self.entries[0].get("cwd", "")) if self.entries else ""

    @property
    def last_checkpoint(self) -> str | None:
        """The latest recorded state of the work tree (file order: time order)."""
        for entry in reversed(self.entries):
            if entry.get("checkpoint"):
                return str(entry["checkpoint"])
        return None

    @property
    def summary(self) -> SessionSummary:
        first = next((e for e in self.entries if e.get("origin") == "prompt"), None)
        results = [e for e in self.entries if e.get("type") == "result"]
        return SessionSummary(
            id=self.session_id,
            cwd=self.cwd,
            started=str(self.entries[0].get("timestamp", "")) if self.entries else "",
            last_activity=str(self.entries[-1].get("timestamp", "")) if self.entries else "",
            first_prompt=str(first.get("prompt", "")) if first else "",
            turns=sum(int(e.get("num_turns") or 0) for e in results),
            cost_usd=sum(float(e.get("total_cost_usd") or 0.0) for e in results),
        )


def read_log(session_id: str, entries: list[Entry], label: str) -> SessionLog:
    """Rebuild the conversation on the current branch of ``entries``; CorruptSession (naming
    ``label``) when an entry cannot be read back."""
    log = SessionLog(session_id, entries)
    log.chain = _current_branch(entries, label)
    for entry in log.chain:
        kind, subtype = entry.get("type"), entry.get("subtype")
        try:
            if kind in ("user", "assistant"):
                _add_message(log.messages, message_from_dict(entry["message"]))
            elif kind == "system" and subtype == "system_prompt":
                log.system_prompt = str(entry["text"])
            elif kind == "system" and subtype == "compact_boundary":
                log.messages = [message_from_dict(m) for m in entry["messages"]]
            elif kind == "system" and subtype == "init":
                log.agent = str(entry.get("agent") or "") or None
        except (KeyError, TypeError, ValueError) as error:
            raise CorruptSession(
                f"{label}: entry {entry.get('uuid')} cannot be read back ({error!r})"
            ) from None
        if entry.get("origin") == "prompt":
            log.prompts.append(
                PromptPoint(
                    number=len(log.prompts) + 1,
                    text=str(entry.get("prompt", "")),
                    timestamp=str(entry.get("timestamp", "")),
                    parent=entry.get("parentUuid"),
                    checkpoint=entry.get("checkpoint"),
                )
            )
    return log


def _add_message(messages: list[Message], message: Message) -> None:
    """As the loop does: user content after a user message is merged into it."""
    if message.role == "user" and messages and messages[-1].role == "user":
        messages[-1].content.extend(message.content)
    else:
        messages.append(message)


def _current_branch(entries: list[Entry], label: str) -> list[Entry]:
    """The entries from the first to the last one written, following ``parentUuid``."""
    by_id = {entry.get("uuid"): entry for entry in entries}
    chain: list[Entry] = []
    entry: Entry | None = entries[-1] if entries else None
    while entry is not None:
        chain.append(entry)
        if len(chain) > len(entries):
            raise CorruptSession(f"{label}: the entries' parentUuid links form a loop")
        parent = entry.get("parentUuid")
        entry = by_id.get(parent) if parent is not None else None
        if parent is not None and entry is None:
            raise CorruptSession(f"{label}: entry {parent} is missing (named as a parent)")
    chain.reverse()
    return chain
