"""Finding sessions: the one to resume (by id, unique id prefix, or the latest in a directory),
how a new session begins (new, resumed or forked), and the summaries that ``backend-agent
sessions`` and the resume picker show.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend_agent import paths
from backend_agent.errors import UserError
from backend_agent.sessions.store import JsonlFileStore, SessionStore, Warn, location_of
from backend_agent.sessions.transcript import SessionLog, SessionSummary, read_log

if TYPE_CHECKING:  # the configuration imports the session's parts; listing needs none of them
    from backend_agent.sessions.config import ResumeChoice


@dataclass(frozen=True)
class SessionOrigin:
    """How a session begins: new, or continuing an earlier one (resumed or forked)."""

    session_id: str
    earlier: SessionLog | None = None
    forked: bool = False


def choose_start(choice: ResumeChoice, store: SessionStore, cwd: Path) -> SessionOrigin:
    """Which conversation a session in ``cwd`` continues (``--continue``, ``--resume``), and
    under which id (``--fork-session``, ``--session-id``); UserError for a combination that
    makes no sense."""
    if not choice.resumes:
        if choice.fork:
            raise UserError("--fork-session needs --continue or --resume")
        return SessionOrigin(new_session_id(choice.new_id, store))
    if choice.new_id is not None and not choice.fork:
        raise UserError("--session-id names a new session: add --fork-session to resume into it")
    if choice.session is not None:
        wanted = find_session(store, choice.session, cwd)
    else:
        wanted = latest_session(store, cwd)
    earlier = load_log(store, wanted)
    if choice.fork:
        return SessionOrigin(new_session_id(choice.new_id, store), earlier, forked=True)
    return SessionOrigin(wanted, earlier)


def copied_entries(log: SessionLog, session_id: str) -> list[dict[str, Any]]:
    """The entries of ``log``'s conversation, moved to session ``session_id`` (a fork)."""
    copies = []
    for entry in log.chain:
        copy = {**entry, "sessionId": session_id}
        if "session_id" in copy:
            copy["session_id"] = session_id
        copies.append(copy)
    return copies


def load_log(store: SessionStore, session_id: str) -> SessionLog:
    """A session's transcript read back (SessionNotFound, CorruptSession)."""
    label = str(location_of(store, session_id) or f"session {session_id}")
    return read_log(session_id, store.load(session_id), label)


def find_session(store: SessionStore, wanted: str, cwd: Path) -> str:
    """The id of the session ``wanted`` names (its id or a unique prefix) in ``store``; a
    UserError saying where it is when it belongs to another directory."""
    ids = store.list()
    if wanted in ids:
        return wanted
    matches = [session_id for session_id in ids if session_id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UserError(f"session id {wanted!r} is ambiguous here: {', '.join(matches[:5])}")
    elsewhere = _other_directory(wanted, store)
    if elsewhere is not None:
        raise UserError(
            f"session {wanted} was run in {elsewhere}, not {cwd}; resume it from there "
            f"(or add --cwd {elsewhere})"
        )
    raise UserError(
        f"no session {wanted!r} in {cwd} (`backend-agent sessions` lists this directory's)"
    )


def latest_session(
    store: SessionStore, cwd: Path, none: str = "start one without --continue"
) -> str:
    """The id of the session of ``cwd`` with the most recent activity; UserError when there is
    none, ending with ``none`` (what the user can do instead)."""
    ids = store.list()
    if not ids:
        raise UserError(f"no session recorded in {cwd}; {none}")
    return ids[-1]


def new_session_id(requested: str | None, store: SessionStore) -> str:
    """``requested`` (``--session-id``), checked: a UUID no session uses yet; else a new one."""
    if requested is None:
        return str(uuid.uuid4())
    try:
        parsed = uuid.UUID(requested)
    except ValueError:
        raise UserError(f"--session-id {requested!r}: not a UUID") from None
    session_id = str(parsed)
    if session_id in store.list():
        raise UserError(f"--session-id {session_id}: a session with this id exists already")
    return session_id


def summaries(store: SessionStore) -> list[SessionSummary]:
    """The summaries of the sessions in ``store`` that can be read, oldest activity first."""
    found = []
    for session_id in store.list():
        try:
            log = load_log(store, session_id)
        except UserError:
            continue  # unreadable sessions are left out of lists; resuming one says why
        if log.entries:
            found.append(log.summary)
    return found


def all_summaries(warn: Warn) -> list[SessionSummary]:
    """The summaries of every project's sessions, oldest activity first."""
    root = paths.projects_dir()
    directories = sorted(d for d in root.iterdir() if d.is_dir()) if root.is_dir() else []
    found = [s for d in directories for s in summaries(JsonlFileStore(d, warn=warn))]
    return sorted(found, key=lambda summary: summary.last_activity)


def _other_directory(wanted: str, here: SessionStore) -> str | None:
    """The directory a session of another project was run in, if one matches ``wanted``."""
    if not isinstance(here, JsonlFileStore) or not paths.projects_dir().is_dir():
        return None
    for directory in paths.projects_dir().iterdir():
        if directory == here.directory or not directory.is_dir():
            continue
        store = JsonlFileStore(directory, warn=lambda message: None)
        for session_id in store.list():
            if session_id == wanted or session_id.startswith(wanted):
                try:
                    return load_log(store, session_id).cwd
                except UserError:
                    return str(directory)
    return None
