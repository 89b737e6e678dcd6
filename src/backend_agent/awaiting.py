"""Running a user's ``async def`` callback (a Python tool, a hook, ``can_use_tool``) from the
synchronous loop: on the event loop of the program that drives the session when there is one
(``Session.astream`` names it), else on a fresh loop of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Awaitable, Coroutine, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_caller_loop: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar(
    "backend_agent_caller_loop", default=None
)


@contextlib.contextmanager
def callbacks_run_on(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """While inside, awaitables resolved in this thread run on ``loop`` (the caller's)."""
    token = _caller_loop.set(loop)
    try:
        yield
    finally:
        _caller_loop.reset(token)


def resolve(value: T | Awaitable[T]) -> T:
    """``value`` itself, or, when it is awaitable, what it gives once awaited (blocking)."""
    if not inspect.isawaitable(value):
        return value
    coroutine: Coroutine[Any, Any, T] = _as_coroutine(value)
    loop = _caller_loop.get()
    if loop is not None and loop.is_running() and not _in_loop_thread(loop):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    return _run_in_own_thread(coroutine)  # called from a running loop's thread: never block it


async def _await(value: Awaitable[T]) -> T:
    return await value


def _as_coroutine(value: Awaitable[T]) -> Coroutine[Any, Any, T]:
    return value if inspect.iscoroutine(value) else _await(value)


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _run_in_own_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(coroutine))
        except BaseException as error:
            failure.append(error)

    worker = threading.Thread(target=run, name="backend-agent-callback")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]
