"""Split a shell command into the simple commands it would run, with a real parser (bashlex).

Every command inside ``&&``, ``||``, ``;``, ``|``, newlines, ``$(…)``, backticks, process
substitutions, subshells, groups and loops is returned, so a permission rule has to allow each
of them; anything bashlex cannot parse (or a construct we do not analyse) is reported as
unparsable, and the caller asks the user.

bashlex can loop forever on some inputs (e.g. ``'${'-``), so parsing runs in a small worker
process with a memory cap and a time limit: a command the worker cannot finish is unparsable,
and the agent never hangs on a command line a model (or a hostile repository) wrote. The
caller skips the parse when no rule could use it (e.g. bypass mode without Bash deny rules),
so the worker then never starts.
"""

from __future__ import annotations

import atexit
import json
import select
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from typing import IO, Any

PARSE_TIMEOUT_S = 5.0
WORKER_MEMORY_BYTES = 1 << 30

_HEREDOC_TYPES = frozenset({"<<", "<<-", "<<<"})
_DYNAMIC_KINDS = frozenset({"parameter", "commandsubstitution", "processsubstitution"})


class UnparsableCommand(Exception):
    """The command could not be split safely; the message says why."""


@dataclass(frozen=True)
class Word:
    """One shell word after quote removal; ``dynamic`` when its value depends on expansions."""

    text: str
    dynamic: bool = False


@dataclass(frozen=True)
class SimpleCommand:
    """One command the shell would execute: its source text, assignments and words."""

    text: str
    assignments: tuple[str, ...]
    words: tuple[Word, ...]

    @property
    def name(self) -> str:
        return self.words[0].text if self.words else ""

    @property
    def arguments(self) -> tuple[Word, ...]:
        return self.words[1:]


@dataclass
class ParsedCommand:
    """Every simple command in a command line, and every file it redirects to or from."""

    commands: list[SimpleCommand] = field(default_factory=list)
    redirect_targets: list[Word] = field(default_factory=list)


def split_command(command: str) -> ParsedCommand:
    """Parse ``command``; raise UnparsableCommand when it cannot be analysed with confidence."""
    return _PARSER.split(command)


class _ParserProcess:
    """One long-lived worker running ``_split_here``; replaced when it hangs or dies."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        atexit.register(self._stop)

    def split(self, command: str) -> ParsedCommand:
        with self._lock:
            reply = self._ask(command)
        if "error" in reply:
            raise UnparsableCommand(reply["error"])
        return ParsedCommand(
            [
                SimpleCommand(
                    c["text"], tuple(c["assignments"]), tuple(Word(**w) for w in c["words"])
                )
                for c in reply["commands"]
            ],
            [Word(**w) for w in reply["redirect_targets"]],
        )

    def _ask(self, command: str) -> dict[str, Any]:
        process = self._running()
        stdin, stdout = _pipes(process)
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        readable, _, _ = select.select([stdout], [], [], PARSE_TIMEOUT_S)
        line = stdout.readline() if readable else ""
        if not line:
            self._stop()
            raise UnparsableCommand("the shell parser did not finish reading it")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _running(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-P", __file__],  # -P: no script dir on sys.path
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def _pipes(process: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    assert process.stdin is not None and process.stdout is not None
    return process.stdin, process.stdout


def _serve() -> None:
    """The worker's loop: one JSON string per line in, one JSON reply per line out."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    for line in sys.stdin:
        try:
            reply: dict[str, Any] = asdict(_split_here(json.loads(line)))
        except UnparsableCommand as error:
            reply = {"error": str(error)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def _split_here(command: str) -> ParsedCommand:
    import bashlex  # only the worker process pays for loading the parser

    try:
        trees = bashlex.parse(command)
    except Exception as error:  # bashlex raises many types (ParsingError, NotImplementedError…)
        raise UnparsableCommand(f"the shell parser could not read it ({error})") from error
    parsed = ParsedCommand()
    for tree in trees:
        _walk(tree, command, parsed)
    if not parsed.commands:
        raise UnparsableCommand("it contains no command")
    return parsed


def _walk(node: Any, source: str, parsed: ParsedCommand) -> None:
    kind = node.kind
    if kind == "command":
        _add_command(node, source, parsed)
    elif kind in ("list", "pipeline", "if", "for", "while", "until"):
        for part in node.parts:
            _walk(part, source, parsed)
    elif kind == "compound":
        for part in node.list:
            _walk(part, source, parsed)
        for redirect in getattr(node, "redirects", []):
            _walk(redirect, source, parsed)
    elif kind in ("commandsubstitution", "processsubstitution"):
        _walk(node.command, source, parsed)
    elif kind in ("word", "assignment"):
        for part in getattr(node, "parts", []):
            _walk(part, source, parsed)
    elif kind == "redirect":
        _add_redirect(node, source, parsed)
    elif kind in ("reservedword", "operator", "pipe", "parameter", "tilde", "heredoc"):
        return
    else:
        raise UnparsableCommand(f"it uses a shell construct that is not analysed ({kind})")


def _add_command(node: Any, source: str, parsed: ParsedCommand) -> None:
    assignments: list[str] = []
    words: list[Word] = []
    for part in node.parts:
        if part.kind == "assignment":
            assignments.append(part.word)
        elif part.kind == "word":
            words.append(Word(part.word, _is_dynamic(part)))
        _walk(part, source, parsed)
    start, end = node.pos
    parsed.commands.append(SimpleCommand(source[start:end], tuple(assignments), tuple(words)))


def _add_redirect(node: Any, source: str, parsed: ParsedCommand) -> None:
    target = node.output
    if not hasattr(target, "word"):  # a file descriptor: 2>&1, <&- …
        return
    for part in getattr(target, "parts", []):
        _walk(part, source, parsed)
    heredoc = getattr(node, "heredoc", None)
    if heredoc is not None and ("$(" in heredoc.value or "`" in heredoc.value):
        raise UnparsableCommand("its here-document may run commands ($(…) or backticks)")
    if node.type in _HEREDOC_TYPES or target.word == "-" or target.word.isdigit():
        return
    parsed.redirect_targets.append(Word(target.word, _is_dynamic(target)))


def _is_dynamic(node: Any) -> bool:
    return any(
        part.kind in _DYNAMIC_KINDS or _is_dynamic(part) for part in getattr(node, "parts", [])
    )


_PARSER = _ParserProcess()

if __name__ == "__main__":
    _serve()
