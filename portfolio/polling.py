"""Bounded exponential backoff for Service Catalog's asynchronous operations."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from portfolio.errors import PollTimeoutError

T = TypeVar("T")
FIRST_DELAY = 0.05
MAX_DELAY = 5.0
DEFAULT_TIMEOUT = 600.0


def with_elapsed(echo: Callable[[str], None]) -> Callable[[str], None]:
    """ECHO with the time since this call in front of every line: "[  12.3 s] line"."""
    started = time.monotonic()

    def timed(line: str) -> None:
        echo(f"[{time.monotonic() - started:6.1f} s] {line}")

    return timed


def wait_for(check: Callable[[], T | None], what: str, timeout: float = DEFAULT_TIMEOUT) -> T:
    """Call CHECK until it returns something other than None; raise after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    delay = FIRST_DELAY
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() + delay > deadline:
            raise PollTimeoutError(f"{what} did not finish within {timeout:g} s; rerun to resume")
        time.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
