"""Bash, BashOutput and KillShell: commands in their own sessions, cwd kept between calls, and
nothing they start outliving an interrupt, a timeout or the session."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pydantic import Field

from backend_agent.messages import ToolSpec
from backend_agent.tools.base import CommandLauncher, SandboxUnavailable, ToolResult
from backend_agent.tools.builtin import (
    MAX_OUTPUT_CHARS,
    BuiltinTool,
    Number,
    ToolError,
    ToolInput,
    truncate,
)
from backend_agent.tools.processes import (
    ChildProcess,
    CommandRefused,
    OutputCollector,
    Reaper,
)

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession

DEFAULT_TIMEOUT_MS = 120_000
MAX_TIMEOUT_MS = 600_000
BACKGROUND_KEEP_CHARS = 1_000_000  # unread background output kept for BashOutput and its filter
EOF_GRACE_SECONDS = 0.5  # after the shell exits, how long to wait for its pipe to close
CWD_REPORT_FD = 63  # where a foreground shell reports its final directory on exit


def _exit_code(returncode: int) -> int:
    """A shell-style exit code: killed by signal N reads as 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class BackgroundShell:
    """A command started with run_in_background, and its unread output."""

    id: str
    command: str
    ident: int  # the reaper's id for the command
    process: ChildProcess
    output: OutputCollector
    killed: bool = False
    log: Path | None = None  # where its output is written, when it is

    def status(self) -> str:
        if self.killed:
            return "killed"
        returncode = self.process.poll()
        if returncode is None:
            return "running"
        return f"completed (exit code {_exit_code(returncode)})"


@dataclass
class Shell:
    """A session's shell state: the persistent directory, running commands, background shells."""

    cwd: Path
    launcher: CommandLauncher
    reaper: Reaper = field(default_factory=Reaper)
    background: dict[str, BackgroundShell] = field(default_factory=dict)
    # The reaper ids of foreground commands, registered before they start so an interrupt
    # can never miss one.
    _foreground: set[int] = field(default_factory=set)
    _interrupted: set[int] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _launch(
        self, command: str, cwd: Path, ident: int, fds: dict[int, int] | None = None
    ) -> ChildProcess:
        try:
            argv = self.launcher.argv(command, str(cwd))
        except SandboxUnavailable as exc:
            raise ToolError(str(exc)) from None
        try:
            return self.reaper.spawn(ident, argv, cwd, fds)
        except OSError as exc:
            raise ToolError(f"Could not start the command: {exc}") from None

    def _working_directory(self, root: Path) -> tuple[Path, str]:
        """The directory to run in; back to the root (with a note) if it has disappeared."""
        if self.cwd.is_dir():
            return self.cwd, ""
        note = f"(The previous directory {self.cwd} no longer exists; ran in {root}.)\n"
        self.cwd = root
        return root, note

    def run(
        self, command: str, timeout_ms: int, root: Path, keep_chars: int = MAX_OUTPUT_CHARS
    ) -> ToolResult:
        """Run ``command`` to completion (or timeout) and report its output (the first
        ``keep_chars`` characters, saying how many lines were cut)."""
        cwd, note = self._working_directory(root)
        with self._lock:
            ident = self.reaper.new_id()
            self._foreground.add(ident)
        cwd_reader, cwd_writer = os.pipe()
        timed_out = False
        try:
            try:
                # On exit, the shell reports its final directory on a private pipe.
                script = f"trap 'pwd -P >&{CWD_REPORT_FD} 2>/dev/null' EXIT\n{command}"
                process = self._launch(script, cwd, ident, {CWD_REPORT_FD: cwd_writer})
            finally:
                os.close(cwd_writer)
            output = OutputCollector(_stdout(process), keep_chars)
            try:
                process.wait(timeout_ms / 1000)
            except subprocess.TimeoutExpired:
                timed_out = True
                self.reaper.kill(ident)
                process.wait()
        except CommandRefused:
            return ToolResult("Command was interrupted.", is_error=True)
        except ToolError:  # it did not start
            raise
        except BaseException:  # Ctrl-C included: the command must not outlive this call
            self.reaper.kill(ident)
            raise
        finally:
            with self._lock:
                self._foreground.discard(ident)
                interrupted = ident in self._interrupted
                self._interrupted.discard(ident)
            self._follow_cwd(cwd_reader)
        output.wait_closed(EOF_GRACE_SECONDS)
        captured = output.take()
        text = note + captured.text.rstrip("\n")
        code = _exit_code(process.wait())
        if timed_out:
            status = f"Command timed out after {timeout_ms / 1000:g} s and was killed."
        elif interrupted:
            status = "Command was interrupted."
        elif code != 0:
            status = f"Exit code {code}"
        elif text:
            return ToolResult(truncate(text, captured.dropped_lines, keep_chars))
        else:
            return ToolResult("(The command succeeded with no output.)")
        body = f"{status}\n{text}".rstrip("\n")
        return ToolResult(truncate(body, captured.dropped_lines, keep_chars), is_error=True)

    def _follow_cwd(self, reader: int) -> None:
        """Adopt the directory the shell ended in, if it reported one."""
        try:
            os.set_blocking(reader, False)
            reported = os.read(reader, 65536).decode("utf-8", "surrogateescape").strip()
        except BlockingIOError:
            reported = ""
        finally:
            os.close(reader)
        if reported and os.path.isdir(reported):
            self.cwd = Path(reported)

    def start_background(
        self, command: str, root: Path, log_directory: Path | None = None
    ) -> BackgroundShell:
        """Start ``command`` in the background. With a ``log_directory``, its output also goes
        to a ``background-<id>-….log`` file there (``BackgroundShell.log``), for an agent
        without BashOutput to read it."""
        cwd, _ = self._working_directory(root)
        ident = self.reaper.new_id()
        shell_id = f"bash_{next(self._ids)}"
        with contextlib.ExitStack() as on_failure:
            log_path = log = None
            if log_directory is not None:
                log_path = log_directory / f"background-{shell_id}-{os.getpid()}-{ident}.log"
                log = _open_log(log_path)
                on_failure.callback(log.close)
            try:
                process = self._launch(command, cwd, ident)
            except CommandRefused:
                raise ToolError("The command was interrupted before it started.") from None
            on_failure.pop_all()
        keep = 0 if log is not None else BACKGROUND_KEEP_CHARS
        output = OutputCollector(_stdout(process), keep, log)
        shell = BackgroundShell(shell_id, command, ident, process, output, log=log_path)
        with self._lock:
            self.background[shell.id] = shell
        return shell

    def get_background(self, shell_id: str) -> BackgroundShell:
        with self._lock:
            shell = self.background.get(shell_id)
        if shell is None:
            known = ", ".join(self.background) or "none"
            raise ToolError(f"No background shell with id {shell_id!r} (known ids: {known}).")
        return shell

    def kill_background(self, shell: BackgroundShell) -> None:
        """Kill a background shell with everything it started (also what a finished one left)."""
        if shell.process.poll() is None:
            shell.killed = True
        self.reaper.kill(shell.ident)
        shell.process.wait()

    def interrupt(self) -> None:
        """Kill every foreground command (and all it started), including one still starting."""
        with self._lock:
            running = list(self._foreground)
            self._interrupted.update(running)
        for ident in running:
            self.reaper.kill(ident)

    def close(self) -> None:
        """Kill every process this shell started, background shells included."""
        with self._lock:
            shells = list(self.background.values())
        for shell in shells:
            if shell.process.poll() is None:
                shell.killed = True
        self.interrupt()
        self.reaper.close()


def _open_log(path: Path) -> IO[str]:
    """A new file for a background command's output; ToolError if it cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path.open("x", encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise ToolError(
            f"Could not create {path} for the command's output: {exc.strerror or exc}"
        ) from None


def _stdout(process: ChildProcess) -> IO[bytes]:
    assert process.stdout is not None  # set once the command has started
    return process.stdout


class BashInput(ToolInput):
    command: str
    timeout: Number | None = Field(
        default=None, ge=1, le=MAX_TIMEOUT_MS, description="ms; default 120000"
    )
    description: str | None = Field(default=None, description="What it does, in 5-10 words")
    run_in_background: bool = Field(default=False, description="Use BashOutput to read it")


class Bash(BuiltinTool[BashInput]):
    name = "Bash"
    input_model = BashInput
    description = (
        "Run a command with bash -c (no TTY, stdin closed). The working directory persists "
        "between calls; environment variables do not. stdout and stderr come back together; a "
        "non-zero exit starts with `Exit code N`. Long output is previewed and saved to a "
        "file. Prefer Glob, Grep and Read to find, grep and cat."
    )

    def spec_without_bash_output(self, *, logs_to_file: bool) -> ToolSpec:
        """The spec for an agent that lacks BashOutput: a background command's output goes to
        a file to Read or, with no session directory to hold it, there are no background runs."""
        spec = self.spec()
        properties = dict(spec.input_schema["properties"])
        if logs_to_file:
            background = dict(properties["run_in_background"])
            background["description"] = "Output goes to a file"
            properties["run_in_background"] = background
        else:
            del properties["run_in_background"]
        return ToolSpec(
            spec.name, spec.description, {**spec.input_schema, "properties": properties}
        )

    def execute(self, args: BashInput, session: ToolSession) -> ToolResult:
        shell = session.shell
        if args.run_in_background:
            return self._start_background(args.command, session)
        timeout = args.timeout or DEFAULT_TIMEOUT_MS
        return shell.run(args.command, timeout, session.cwd, session.output_cap)

    @staticmethod
    def _start_background(command: str, session: ToolSession) -> ToolResult:
        """Start a background command. Without BashOutput to read it, its output goes to a
        file under the session directory, which Read opens without a prompt."""
        if BashOutput.name in session.tool_names:
            started = session.shell.start_background(command, session.cwd)
            return ToolResult(
                f"Started in the background with id {started.id}. Read its output with "
                "BashOutput and stop it with KillShell."
            )
        if session.spill is None:
            raise ToolError(
                "run_in_background needs the BashOutput tool, which this agent does not have. "
                "Run the command in the foreground."
            )
        started = session.shell.start_background(command, session.cwd, session.spill.directory)
        return ToolResult(
            f"Started in the background with id {started.id}. Its output (stdout and stderr) "
            f"is written to {started.log}: Read that file to follow it. The command runs "
            "until it ends or the session closes."
        )


class BashOutputInput(ToolInput):
    bash_id: str
    filter: str | None = Field(default=None, description="Regex; other new lines are dropped")


class BashOutput(BuiltinTool[BashOutputInput]):
    name = "BashOutput"
    input_model = BashOutputInput
    description = (
        "A background shell's status (running, completed with exit code, killed) and its "
        "output since the last call."
    )

    def execute(self, args: BashOutputInput, session: ToolSession) -> ToolResult:
        try:
            pattern = re.compile(args.filter) if args.filter is not None else None
        except re.error as exc:
            raise ToolError(f"Invalid filter regex {args.filter!r}: {exc}") from None
        shell = session.shell.get_background(args.bash_id)
        status = shell.status()  # before reading, so "completed" means the output is all there
        if status != "running":
            shell.output.wait_closed(EOF_GRACE_SECONDS)
        captured = shell.output.take()
        new = captured.text
        if pattern is not None:
            new = "\n".join(line for line in new.splitlines() if pattern.search(line))
        if new.strip():
            body = truncate(new.rstrip("\n"), limit=session.output_cap)
        else:
            body = "(no new output)" if pattern is None else "(no new lines match the filter)"
        if captured.dropped_lines:
            body += (
                f"\n({captured.dropped_lines} further lines arrived but were not kept: over "
                f"{BACKGROUND_KEEP_CHARS:,} unread characters. Read output more often.)"
            )
        return ToolResult(f"Status: {status}\n{body}")


class KillShellInput(ToolInput):
    shell_id: str


class KillShell(BuiltinTool[KillShellInput]):
    name = "KillShell"
    input_model = KillShellInput
    description = "Kill a background shell and every process it started."

    def execute(self, args: KillShellInput, session: ToolSession) -> ToolResult:
        shell = session.shell.get_background(args.shell_id)
        was = shell.status()
        session.shell.kill_background(shell)
        if was != "running":
            return ToolResult(f"Shell {shell.id} had already finished: {was}.")
        return ToolResult(f"Killed shell {shell.id} ({shell.command}).")
