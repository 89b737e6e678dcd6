"""A real terminal for end-to-end tests: tmux runs ``backend-agent`` in a pane of a fixed size;
tests type keys into it and read what the pane shows, as a user would."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

EXIT_MARK = "[backend-agent exited with status "
TIMEOUT = 90.0  # generous: the machine may be busy; nothing here measures time
POLL = 0.1


def require_tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        pytest.skip("tmux is not installed (apt-get install tmux); the terminal tests need it")
    return found


class Terminal:
    """One tmux server with one pane running a command."""

    def __init__(self, workdir: Path, *, width: int = 120, height: int = 40) -> None:
        self.tmux = require_tmux()
        self.socket = workdir / "tmux.sock"
        self.config = workdir / "tmux.conf"
        self.config.write_text("set -g remain-on-exit on\nset -g history-limit 20000\n")
        self.width, self.height = width, height

    def _run(self, *args: str, input: str | None = None) -> str:
        done = subprocess.run(
            [self.tmux, "-S", str(self.socket), "-f", str(self.config), *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=30,
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, argv: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        command = " ".join(shlex.quote(part) for part in argv)
        command = f"{command}; echo {EXIT_MARK}$?"  # pane_dead_status is not kept everywhere
        settings = [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]
        self._run(
            "new-session",
            "-d",
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            "-c",
            str(cwd),
            *settings,
            command,
        )

    def type(self, text: str) -> None:
        """Type ``text`` literally (no key names)."""
        self._run("send-keys", "-t", "0", "-l", text)

    def press(self, *keys: str) -> None:
        """Press keys by tmux name: Enter, Escape, BTab (Shift+Tab), C-c, Up..."""
        self._run("send-keys", "-t", "0", *keys)

    def paste(self, text: str) -> None:
        """Paste ``text`` as a terminal does (bracketed, when the program asked for it)."""
        self._run("load-buffer", "-b", "test", "-", input=text)
        self._run("paste-buffer", "-p", "-d", "-b", "test", "-t", "0")

    def screen(self) -> str:
        """Everything the pane shows and scrolled past, wrapped lines joined, without the
        spaces at the ends of lines."""
        screen = self._run("capture-pane", "-p", "-J", "-S", "-", "-t", "0")
        return "\n".join(line.rstrip() for line in screen.splitlines())

    def wait_for(self, text: str, timeout: float = TIMEOUT, *, after: int = 0) -> str:
        """Wait until ``text`` is on the screen (in its part from character ``after`` on)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen[after:]:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")
            time.sleep(POLL)

    def wait_for_prompt(self, count: int) -> str:
        """Wait until the ``count``-th prompt is ready (its status line drawn under it)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            screen = self.screen()
            lines = screen.rstrip("\n").splitlines()
            if _prompts(screen) >= count and lines and "shift+tab" in lines[-1]:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"prompt {count} never came; the screen:\n{screen}")
            time.sleep(POLL)

    def exit_status(self, timeout: float = TIMEOUT) -> int:
        """The command's exit status, once it has ended."""
        screen = self.wait_for(EXIT_MARK, timeout)
        return int(screen.split(EXIT_MARK)[-1].split()[0])

    def close(self) -> None:
        if self.socket.exists():
            subprocess.run(
                [self.tmux, "-S", str(self.socket), "kill-server"], capture_output=True, timeout=30
            )


def _prompts(screen: str) -> int:
    """How many prompt lines (``> ...``) the screen has."""
    return sum(1 for line in screen.splitlines() if line.startswith("> ") or line == ">")
