"""What ``npm test`` really runs: the test script followed through ``npm run``/``yarn``/``pnpm``/
``run-s``/``npm-run-all`` to other scripts, past environment settings and wrappers (cross-env,
dotenv, nyc, c8, npx), to the test runners it ends in."""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass

# Runner binaries (and what calls them) -> the runner name the output parsers know.
RUNNERS = {
    "jest": "jest",
    "vitest": "vitest",
    "mocha": "mocha",
    "_mocha": "mocha",
    "tap": "tap",
    "ava": "ava",
    "playwright": "playwright",
    "cypress": "cypress",
    "react-scripts": "jest",  # react-scripts test
    "craco": "jest",
    "karma": "karma",
    "jasmine": "jasmine",
    "lab": "lab",
    "tape": "tap",
    "uvu": "uvu",
}
# Commands that run the rest of the line as another command.
WRAPPERS = frozenset(
    {"cross-env", "env", "dotenv", "nyc", "c8", "npx", "bunx", "time", "nodemon", "env-cmd"}
)
# Options of wrappers that take a value (``dotenv -e .env.test -- jest``).
_VALUED = frozenset({"-e", "-c", "-f", "--env", "--config", "--reporter", "-r", "--file"})
_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class ScriptRunner:
    """A runner a script ends in, and the scripts followed to reach it."""

    name: str
    path: tuple[str, ...]  # e.g. ("test", "test:unit")


def script_runners(scripts: dict[str, str], name: str = "test") -> list[ScriptRunner]:
    """The runners ``npm run <name>`` ends in, in the order it runs them."""
    return _follow(scripts, name, (name,))


def _follow(scripts: dict[str, str], name: str, path: tuple[str, ...]) -> list[ScriptRunner]:
    found: list[ScriptRunner] = []
    for command in _commands(scripts.get(name, "")):
        for target in _run_targets(command, scripts):
            if target not in path:
                found += _follow(scripts, target, (*path, target))
        runner = _runner(command)
        if runner is not None:
            found.append(ScriptRunner(runner, path))
    return found


def _commands(script: str) -> list[list[str]]:
    """The simple commands of a shell line, split at ``&&``, ``||``, ``;`` and pipes."""
    try:
        lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:  # an unbalanced quote: read it word by word
        words = script.split()
    commands: list[list[str]] = [[]]
    for word in words:
        if word in _OPERATORS or set(word) <= set("&|;()"):
            commands.append([])
        else:
            commands[-1].append(word)
    return [_unwrap(c) for c in commands if c]


def _unwrap(words: list[str]) -> list[str]:
    """The command past ``VAR=value`` settings and wrappers (``cross-env X=1 nyc jest``)."""
    i = 0
    while i < len(words):
        word = _program(words[i])
        if _ASSIGNMENT.match(words[i]) or word == "--":
            i += 1
        elif word in WRAPPERS:
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in _VALUED and "=" not in words[i] else 1
        elif word in ("pnpm", "yarn") and i + 1 < len(words) and words[i + 1] in ("exec", "dlx"):
            i += 2
        else:
            break
    return words[i:]


def _program(word: str) -> str:
    """``./node_modules/.bin/jest`` -> ``jest``; ``node_modules/jest/bin/jest.js`` -> ``jest``."""
    base = word.rsplit("/", 1)[-1]
    for suffix in (".js", ".cjs", ".mjs", ".cmd"):
        base = base.removesuffix(suffix)
    return base


def _run_targets(command: list[str], scripts: dict[str, str]) -> list[str]:
    """The scripts a command runs: ``npm run x``, ``yarn x``, ``pnpm x``, ``run-s a b:*``..."""
    program, rest = _program(command[0]), command[1:]
    args = [w for w in rest if not w.startswith("-")]
    if program in ("npm", "pnpm", "bun", "yarn"):
        if args[:1] in (["run"], ["run-script"]):
            return args[1:2]
        if args[:1] in (["test"], ["t"]):
            return ["test"]
        if program in ("yarn", "pnpm") and args and args[0] in scripts:
            return args[:1]
        return []
    if program in ("run-s", "run-p", "npm-run-all"):
        return [name for pattern in args for name in _matching(pattern, scripts)]
    if program == "start-server-and-test" and len(args) >= 3:
        return [args[-1]] if args[-1] in scripts else []
    return []


def _matching(pattern: str, scripts: dict[str, str]) -> list[str]:
    """npm-run-all globs: ``test:*`` matches ``test:unit`` (``*`` stops at ``:``)."""
    if not any(c in pattern for c in "*?["):
        return [pattern] if pattern in scripts else []
    regex = re.compile(fnmatch.translate(pattern).replace(".*", "[^:]*"))
    return [name for name in scripts if regex.match(name)]


def _runner(command: list[str]) -> str | None:
    program = _program(command[0])
    if program == "node" or program == "bun":
        if "--test" in command[1:] or (program == "bun" and command[1:2] == ["test"]):
            return "node:test" if program == "node" else "bun:test"
        scripts = [w for w in command[1:] if not w.startswith("-")]
        return RUNNERS.get(_program(scripts[0])) if scripts else None
    return RUNNERS.get(program)
