"""SIGTERM and SIGHUP end a run as Ctrl-C does: they raise ``Terminated`` in the main thread,
so the turn is cancelled, its commands are killed and the result is written as for Ctrl-C;
the process then exits with 128 + the signal's number (143, 129).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from backend_agent.runtime.results import Terminated

TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def terminate_on_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise ``Terminated``; later ones are ignored while the
    first unwinds (so cleanup is not cut short). Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        for number in TERMINATING_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        raise Terminated(signum)

    previous = {number: signal.signal(number, terminate) for number in TERMINATING_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
