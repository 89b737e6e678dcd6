"""``backend-agent rewind``: restore the files and/or the conversation of a session to just
before its N-th prompt (headless; interactive sessions have ``/rewind``)."""

from __future__ import annotations

from pathlib import Path

from backend_agent.commands.arguments import CommandParser, add_debug, positive_int
from backend_agent.errors import UserError


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent rewind",
        description="Go back to just before prompt N of a session (default: the latest of "
        "this directory). --code restores every file the session changed since, by any tool, "
        "shell commands included, and touches nothing else; --conversation makes the session "
        "continue (-c / -r ID) from before that prompt; --both (the default) does both. Files "
        "changed outside the session since its last checkpoint are not overwritten without "
        "--force. Without --to, lists the prompts.",
    )
    parser.add_argument("session", nargs="?", metavar="SESSION", help="session id or prefix")
    parser.add_argument("--to", type=positive_int, metavar="N", help="1 = before the first")
    modes = parser.add_mutually_exclusive_group()
    for mode, text in (
        ("code", "restore the files only"),
        ("conversation", "rewind the conversation only"),
        ("both", "both (the default)"),
    ):
        modes.add_argument(f"--{mode}", action="store_const", const=mode, dest="what", help=text)
    parser.add_argument(
        "--force", action="store_true", help="overwrite files changed outside the session"
    )
    parser.add_argument(
        "--cwd", type=Path, default=Path.cwd(), metavar="DIR", help="project directory"
    )
    add_debug(parser)
    args = parser.parse_args(argv)
    cwd = args.cwd.resolve()
    if not cwd.is_dir():
        raise UserError(f"--cwd {args.cwd}: not a directory")

    from backend_agent.errors import warn_to_stderr
    from backend_agent.sessions import lookup
    from backend_agent.sessions.rewind import CheckpointKeeper, rewind_session
    from backend_agent.sessions.store import JsonlFileStore
    from backend_agent.sessions.transcript import Transcript
    from backend_agent.ui.pickers import local_time, one_line

    store = JsonlFileStore.for_cwd(cwd)
    if args.session is None:
        session_id = lookup.latest_session(
            store, cwd, "nothing to rewind here (--cwd DIR for another directory)"
        )
    else:
        session_id = lookup.find_session(store, args.session, cwd)
    log = lookup.load_log(store, session_id)
    if args.to is None:
        print(f"Prompts of session {session_id} (rewind with --to N):")
        for point in log.prompts:
            print(f"  {point.number:>2}. {local_time(point.timestamp)}  {one_line(point.text)}")
        return 0
    what = args.what or "both"
    transcript = Transcript(store, session_id, cwd=cwd, head=log.head, warn=warn_to_stderr)
    outcome = rewind_session(
        log,
        transcript,
        CheckpointKeeper(cwd, warn_to_stderr),
        args.to,
        code=what in ("code", "both"),
        conversation=what in ("conversation", "both"),
        force=args.force,
    )
    print(
        f"Rewound session {session_id} to before prompt {args.to}: {one_line(outcome.prompt.text)}"
    )
    if what != "conversation":
        listed = "".join(f"\n  {path}" for path in outcome.restored)
        print(f"Restored {len(outcome.restored)} files.{listed}")
    if what != "code":
        print(f"The conversation continues from there: backend-agent -r {session_id}")
    return 0
