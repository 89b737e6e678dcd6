"""How a running prompt's events reach a program: as a sync or async iterator over a run in a
worker thread, and with each approval the run asks for announced as an event.

The loop is synchronous; ``Session.stream`` and ``Session.astream`` run it in a thread and hand
its events over through a queue, in the order they happen. Leaving the iteration early (a
``break``, an exception, a cancelled task) interrupts the run and waits until it has stopped,
so no command outlives the iteration.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass

from backend_agent.awaiting import callbacks_run_on
from backend_agent.permissions.approval import Approval, ApprovalRequest, Approver
from backend_agent.runtime.events import AgentEvent, EventHandler, PermissionRequest
from backend_agent.runtime.results import RunResult

Run = Callable[[EventHandler], RunResult]
"""One prompt's run, reporting its events to the handler it is given."""
_INTERRUPT_INTERVAL = 0.2  # seconds between interruptions of a run that has not stopped yet


@dataclass(frozen=True)
class _Ended:
    """The run is over; ``error`` when it raised instead of returning a result."""

    error: BaseException | None = None

    def raise_error(self) -> None:
        """Re-raise, in the caller's thread, what the run raised."""
        if self.error is not None:
            raise self.error


def stream_run(run: Run, interrupt: Callable[[], None]) -> Generator[AgentEvent, None, None]:
    """The events of ``run`` (started on the first ``next``), ending with ``RunFinished``."""
    events: queue.SimpleQueue[AgentEvent | _Ended] = queue.SimpleQueue()
    worker = _Worker(run, events.put)
    worker.start()
    try:
        while not isinstance(item := events.get(), _Ended):
            yield item
        item.raise_error()
    finally:
        while worker.is_alive():  # again until it stops: the run may not have begun yet
            interrupt()
            worker.join(_INTERRUPT_INTERVAL)


async def astream_run(run: Run, interrupt: Callable[[], None]) -> AsyncGenerator[AgentEvent, None]:
    """The events of ``run`` as an async iterator; ``async def`` callbacks the run calls
    (tools, hooks, ``can_use_tool``) are awaited on the caller's event loop."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[AgentEvent | _Ended] = asyncio.Queue()

    def hand_over(item: AgentEvent | _Ended) -> None:
        # a closed loop (RuntimeError) means nobody is listening any more
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(events.put_nowait, item)

    def run_with_callbacks_on_loop(handler: EventHandler) -> RunResult:
        with callbacks_run_on(loop):
            return run(handler)

    worker = _Worker(run_with_callbacks_on_loop, hand_over)
    worker.start()
    try:
        while not isinstance(item := await events.get(), _Ended):
            yield item
        item.raise_error()
    finally:
        while worker.is_alive():
            interrupt()
            await asyncio.to_thread(worker.join, _INTERRUPT_INTERVAL)


class _Worker(threading.Thread):
    """Runs one prompt; every event, then ``_Ended``, goes to ``hand_over``."""

    def __init__(self, run: Run, hand_over: Callable[[AgentEvent | _Ended], None]) -> None:
        super().__init__(name="backend-agent-run", daemon=True)
        self._run = run
        self._hand_over = hand_over

    def run(self) -> None:
        ended = _Ended()
        try:
            self._run(self._hand_over)
        except BaseException as error:
            ended = _Ended(error)
        finally:
            self._hand_over(ended)


def _ignore(event: AgentEvent) -> None:
    """The listener while no prompt runs."""


def _nothing() -> None:
    """The interruption before the session is connected."""


class ApprovalRelay:
    """Stands between the policy and the approver: announces every request to the running
    prompt's ``listener`` as a PermissionRequest, and lets the approver ``interrupt`` the run."""

    def __init__(self, approver: Approver | None = None) -> None:
        self.approver = approver
        self.listener: EventHandler = _ignore
        self.stop: Callable[[], None] = _nothing

    def approve(self, request: ApprovalRequest) -> Approval:
        if self.approver is None:
            raise RuntimeError("ApprovalRelay has no approver to ask")
        self.listener(
            PermissionRequest(
                request.tool, dict(request.tool_input), request.reason, request.suggestions
            )
        )
        return self.approver.approve(request)

    def notify(self, message: str) -> None:
        if self.approver is not None:
            self.approver.notify(message)

    def interrupt(self) -> None:
        self.stop()
