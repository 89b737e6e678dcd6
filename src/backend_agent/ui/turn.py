"""What the terminal shows while a prompt runs: the run's output above, and at the bottom the
unfinished part of the answer, a spinner with the elapsed time and tokens, and the status line.

Keys are watched meanwhile (Esc interrupts, Shift+Tab cycles the mode); ``paused()`` stops the
spinner and the watcher while the user is asked something (an approval).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from backend_agent.permissions.approval import Approval, ApprovalRequest, Approver
from backend_agent.runtime.events import AgentEvent, ToolEnd, ToolStart
from backend_agent.ui.keywatch import KeyWatcher
from backend_agent.ui.render import RunRenderer

SPINNER = "✻✽✶✳✢·✢✳✶✽"
FRAMES_PER_SECOND = 8
TAIL_LINES = 6
Pause = Callable[[], AbstractContextManager[None]]


class TurnView:
    """The screen of one running prompt; use as a context manager around ``session.prompt``.

    ``status`` draws the status line; ``activity`` names what the agent is doing when no tool
    runs (the todo item in progress, say). Without ``animate`` (not a terminal) only the run's
    output is printed.
    """

    def __init__(
        self,
        console: Console,
        renderer: RunRenderer,
        *,
        status: Callable[[], Text],
        activity: Callable[[], str | None],
        animate: bool,
        watcher: KeyWatcher | None = None,
    ) -> None:
        self.console = console
        self.renderer = renderer
        self.status = status
        self.activity = activity
        self.watcher = watcher
        self._started = time.monotonic()
        self._tool: str | None = None
        self.note = ""  # what the spinner says instead, while set (e.g. a check's progress)
        self.animate = animate
        self._live: Live | None = None

    def __enter__(self) -> TurnView:
        self._started = time.monotonic()
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def on_event(self, event: AgentEvent) -> None:
        if isinstance(event, ToolStart):
            self._tool = event.call.name
        elif isinstance(event, ToolEnd):
            self._tool = None
        self.renderer.on_event(event)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Nothing animated and no keys watched while inside."""
        self._stop()
        try:
            yield
        finally:
            self._start()

    def _start(self) -> None:
        if self.animate:  # a new Live each time: a restarted one would erase lines above it
            self._live = Live(
                console=self.console,
                transient=True,
                refresh_per_second=FRAMES_PER_SECOND,
                get_renderable=self._bottom,
            )
            self._live.start()
        if self.watcher is not None:
            self.watcher.start()

    def _stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def _bottom(self) -> RenderableType:
        elapsed = time.monotonic() - self._started
        frame = SPINNER[int(elapsed * FRAMES_PER_SECOND) % len(SPINNER)]
        tokens = self.renderer.output_tokens
        counts = f"{elapsed:.0f}s · ↓ {_short(tokens)} tokens · esc to interrupt"
        spinner = Text.assemble((f"{frame} ", self.renderer.color), (self._doing() + "… ", "bold"))
        spinner.append(f"({counts})", style="dim")
        parts: list[RenderableType] = []
        tail = self.renderer.tail.strip("\n")
        if tail:
            parts.append(Text("\n".join(tail.splitlines()[-TAIL_LINES:])))
        parts += [spinner, self.status()]
        return Group(*parts)

    def _doing(self) -> str:
        if self.note:
            return self.note
        if self._tool is not None:
            return f"Running {self._tool}"
        if self.renderer.thinking:
            return "Thinking"
        return self.activity() or "Working"


def _short(tokens: int) -> str:
    return f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)


def interrupt_turn() -> None:
    """What Esc does: exactly what Ctrl-C does (SIGINT to this process)."""
    os.kill(os.getpid(), signal.SIGINT)


class PausingApprover:
    """Asks ``inner`` with the turn's spinner and key watcher paused (``pause``)."""

    def __init__(self, inner: Approver, pause: Pause) -> None:
        self.inner = inner
        self.pause = pause

    def approve(self, request: ApprovalRequest) -> Approval:
        with self.pause():
            return self.inner.approve(request)

    def notify(self, message: str) -> None:
        with self.pause():
            self.inner.notify(message)
