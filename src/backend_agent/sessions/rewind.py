"""Rewind: back to just before one of the conversation's prompts, for the code, the
conversation, or both.

The code goes back through the checkpoint store (``sessions.checkpoints``): the files the
session changed since, by any tool, shell commands included, are restored, and nothing else.
The conversation goes back by starting a new branch of the transcript at the entry before the
prompt; the old branch stays in the file. Each rewind is recorded as a ``system/rewind`` entry
holding the checkpoint taken after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent import paths
from backend_agent.errors import UserError
from backend_agent.messages import Message
from backend_agent.sessions.store import location_of
from backend_agent.sessions.transcript import PromptPoint, SessionLog, Transcript, read_log

if TYPE_CHECKING:
    from backend_agent.sessions.checkpoints import CheckpointStore, RestorePlan


class CheckpointKeeper:
    """The checkpoint store of a session's work tree, opened on first use. When a checkpoint
    cannot be taken (e.g. too many files) it says so once and takes no more."""

    def __init__(self, cwd: Path, warn: Callable[[str], None]) -> None:
        self.cwd = cwd
        self.warn = warn
        self.off = False
        self._store: CheckpointStore | None = None

    @property
    def store(self) -> CheckpointStore:
        if self._store is None:
            from backend_agent.sessions.checkpoints import CheckpointStore

            self._store = CheckpointStore(self.cwd, paths.checkpoints_dir(self.cwd))
        return self._store

    def snapshot(self) -> str | None:
        """The id of the work tree's state now; None once checkpoints are off."""
        if self.off:
            return None
        try:
            return self.store.snapshot()
        except (UserError, OSError) as error:
            self.off = True
            self.warn(f"no checkpoints for this session, so no code rewind: {error}")
            return None


@dataclass
class RewindOutcome:
    """What a rewind did: the prompt gone back to, the files restored, and the conversation
    now (None when the conversation was left as it was)."""

    prompt: PromptPoint
    restored: list[str] = field(default_factory=list)
    messages: list[Message] | None = None


def prompt_point(log: SessionLog, to: int) -> PromptPoint:
    """Prompt number ``to`` (1 = the first) of the conversation; UserError when none."""
    count = len(log.prompts)
    if not 1 <= to <= count:
        have = f"prompts 1 to {count}" if count else "no prompts yet"
        raise UserError(f"--to {to}: session {log.session_id} has {have}")
    return log.prompts[to - 1]


def plan_code_rewind(keeper: CheckpointKeeper | None, log: SessionLog, to: int) -> RestorePlan:
    """What restoring the files to before prompt ``to`` would do, and which files were changed
    outside the session since its last checkpoint (the conflicts)."""
    store, target, end = _checkpoints_for(keeper, log, to)
    return store.plan_restore(target, end)


def _checkpoints_for(
    keeper: CheckpointKeeper | None, log: SessionLog, to: int
) -> tuple[CheckpointStore, str, str]:
    """The store, the checkpoint before prompt ``to`` and the session's last one."""
    point = prompt_point(log, to)
    end = log.last_checkpoint
    if keeper is None or keeper.off or point.checkpoint is None or end is None:
        raise UserError(
            f"prompt {to} of session {log.session_id} has no checkpoint (checkpoints were off "
            "or failed), so its files cannot be rewound; --conversation still works"
        )
    return keeper.store, point.checkpoint, end


def rewind_session(
    log: SessionLog,
    transcript: Transcript,
    keeper: CheckpointKeeper | None,
    to: int,
    *,
    code: bool,
    conversation: bool,
    force: bool,
) -> RewindOutcome:
    """Rewind ``log``'s session to before prompt ``to``; RewindConflict (nothing written) when
    files changed outside the session since, unless ``force``."""
    if not (code or conversation):
        raise UserError("nothing to rewind: choose the code, the conversation, or both")
    point = prompt_point(log, to)
    outcome = RewindOutcome(point)
    after: str | None = None
    if code:
        store, target, end = _checkpoints_for(keeper, log, to)
        outcome.restored = store.restore(store.plan_restore(target, end), force=force)
        after = store.snapshot()
    if conversation:
        transcript.head = point.parent
    record = {
        "type": "system",
        "subtype": "rewind",
        "to": to,
        "code": code,
        "conversation": conversation,
        "restored": outcome.restored,
    }
    transcript.write({**record, "checkpoint": after} if after else record)
    if conversation:
        label = str(location_of(transcript.store, log.session_id) or log.session_id)
        entries = transcript.store.load(log.session_id)
        outcome.messages = read_log(log.session_id, entries, label).messages
    return outcome
