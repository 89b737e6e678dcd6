"""Keys pressed while the agent works: Esc interrupts the turn, Shift+Tab cycles the permission
mode, anything else typed is kept for the next prompt.

A thread reads the terminal in cbreak mode (no echo, keys as they come, Ctrl-C still a
signal). An Esc is a lone escape byte: one followed at once by more bytes is a key sequence
(arrows, Shift+Tab). ``paused()`` hands the terminal back, e.g. to an approval prompt.
"""

from __future__ import annotations

import contextlib
import os
import select
import termios
import threading
import tty
from collections.abc import Callable, Iterator

POLL_SECONDS = 0.05
SEQUENCE_SECONDS = 0.03  # the rest of an escape sequence arrives within this
ESC = b"\x1b"
SHIFT_TAB = b"\x1b[Z"


class KeyWatcher:
    """Watches ``fd`` (a terminal) between ``start()`` and ``stop()``."""

    def __init__(
        self, fd: int, *, on_escape: Callable[[], None], on_shift_tab: Callable[[], None]
    ) -> None:
        self.fd = fd
        self.on_escape = on_escape
        self.on_shift_tab = on_shift_tab
        self.typed = ""  # what was typed meanwhile, for the next prompt
        self._saved: list[object] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        try:
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)
        except termios.error:  # not a terminal after all: nothing to watch
            self._saved = None
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="keys", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSANOW, self._saved)  # type: ignore[arg-type]
            self._saved = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The terminal as it was, for someone else to read (an approval prompt)."""
        running = self._thread is not None
        self.stop()
        try:
            yield
        finally:
            if running:
                self.start()

    def take_typed(self) -> str:
        typed, self.typed = self.typed, ""
        return typed

    def _watch(self) -> None:
        while not self._stop.is_set():
            data = self._read(POLL_SECONDS)
            if not data:
                continue
            while data.endswith(ESC) or data.endswith(b"\x1b["):  # maybe a sequence's start
                more = self._read(SEQUENCE_SECONDS)
                if not more:
                    break
                data += more
            self._handle(data)

    def _read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.fd, 1024)
        except OSError:
            self._stop.set()
            return b""

    def _handle(self, data: bytes) -> None:
        while data:
            if data.startswith(SHIFT_TAB):
                self.on_shift_tab()
                data = data[len(SHIFT_TAB) :]
            elif data == ESC or data[1:2] == ESC:  # a lone Esc (or Esc pressed twice)
                self.on_escape()
                return
            elif data.startswith(ESC):
                data = _skip_sequence(data)  # arrows and other keys mean nothing here
            else:
                end = data.find(ESC)
                text, data = (data, b"") if end < 0 else (data[:end], data[end:])
                self.typed += text.decode("utf-8", "replace").replace("\r", "\n")


def _skip_sequence(data: bytes) -> bytes:
    """``data`` after the escape sequence it starts with (CSI, SS3, or Alt+key)."""
    if data[1:2] in (b"[", b"O"):
        for index in range(2, len(data)):
            if 0x40 <= data[index] <= 0x7E:
                return data[index + 1 :]
        return b""
    return data[2:]
