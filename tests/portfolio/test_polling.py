"""Bounded backoff: returns the first non-None answer, gives up with a message that says rerun."""

from __future__ import annotations

import time

import pytest

from portfolio.errors import PollTimeoutError
from portfolio.polling import wait_for


def test_returns_the_first_answer_after_backing_off() -> None:
    answers = iter([None, None, "AVAILABLE"])
    started = time.monotonic()
    assert wait_for(lambda: next(answers), "version pa-1") == "AVAILABLE"
    assert time.monotonic() - started >= 0.05 + 0.1  # two sleeps: 50 ms, then 100 ms


def test_gives_up_at_the_deadline_naming_the_operation() -> None:
    expected = r"share ORGANIZATION o-1 did not finish within 0.2 s; rerun"
    with pytest.raises(PollTimeoutError, match=expected):
        wait_for(lambda: None, "share ORGANIZATION o-1", timeout=0.2)
