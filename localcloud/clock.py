"""localcloud's clock: the one notion of "now" for schedules, alarm evaluation and retries.

Everything localcloud does later (an asynchronous invocation, its retries a minute apart, a
`rate(5 minutes)` rule, the alarm evaluation every minute) is a job on this clock. The clock runs
in one of two ways:

- controlled (tests, the default of `LocalCloud()`): time moves only when `advance(seconds)` is
  called, which runs every job that falls due on the way, in time order, each seeing `now()` equal
  to its own due time. `advance(0)` runs what is due now. Same calls, same order, same result.
- real time (`build.py local`): `RealTimeDriver` advances the clock with the wall clock,
  optionally sped up, so a day of evaluations can pass in minutes.

Jobs run on the thread that advances the clock, one at a time; a job may schedule more jobs (a
retry, the next tick) and they run in the same `advance` if they fall due within it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import LocalCloudError

Job = Callable[[], None]
logger = logging.getLogger("localcloud.clock")


@dataclass(order=True)
class _Scheduled:
    due: float
    sequence: int
    label: str = field(compare=False)
    job: Job = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class ClockError(LocalCloudError):
    """A misuse of the clock (going backwards, advancing from inside a job)."""


class Clock:
    """Epoch seconds that move only through `advance` (or a `RealTimeDriver`)."""

    def __init__(self, start: float | None = None) -> None:
        self._state_lock = threading.Lock()
        self._advance_lock = threading.Lock()
        self._now = time.time() if start is None else start
        self._queue: list[_Scheduled] = []
        self._sequence = itertools.count()
        self._running_on: int | None = None
        self.failures: list[tuple[str, BaseException]] = []
        """(label, error) of jobs that raised: logged and kept, never allowed to stop the clock."""
        self.on_reset: list[Callable[[Clock], None]] = []
        """Called at the end of every `reset()`: recurring work (the alarm evaluation tick, the
        SQS metrics) schedules itself again here, since a reset drops every job."""

    def now(self) -> float:
        with self._state_lock:
            return self._now

    def call_at(self, due: float, job: Job, label: str) -> _Scheduled:
        """Run `job` when the clock reaches `due` (at once on the next advance if already past)."""
        with self._state_lock:
            entry = _Scheduled(due, next(self._sequence), label, job)
            heapq.heappush(self._queue, entry)
            return entry

    def call_later(self, delay: float, job: Job, label: str) -> _Scheduled:
        return self.call_at(self.now() + delay, job, label)

    def cancel(self, entry: _Scheduled) -> None:
        entry.cancelled = True

    def pending(self) -> list[tuple[float, str]]:
        """(due, label) of every job still waiting, soonest first."""
        with self._state_lock:
            return [(e.due, e.label) for e in sorted(self._queue) if not e.cancelled]

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds`, running every job due on the way; returns the new now."""
        if seconds < 0:
            raise ClockError(f"the clock cannot go backwards (advance by {seconds} seconds)")
        if self._running_on == threading.get_ident():
            raise ClockError("a clock job cannot advance the clock it runs on")
        with self._advance_lock:
            self._running_on = threading.get_ident()
            try:
                target = self.now() + seconds
                while (entry := self._pop_due(target)) is not None:
                    self._run_job(entry)
                with self._state_lock:
                    self._now = max(self._now, target)
                    return self._now
            finally:
                self._running_on = None

    def _run_job(self, entry: _Scheduled) -> None:
        try:
            entry.job()
        except Exception as error:  # one broken job must not stop schedules and evaluations
            logger.exception("localcloud clock: job %s failed", entry.label)
            self.failures.append((entry.label, error))

    def _pop_due(self, target: float) -> _Scheduled | None:
        with self._state_lock:
            while self._queue and self._queue[0].due <= target:
                entry = heapq.heappop(self._queue)
                if entry.cancelled:
                    continue
                self._now = max(self._now, entry.due)
                return entry
            return None

    def reset(self, start: float | None = None) -> None:
        """Forget every job and restart at `start` (default: the wall clock)."""
        with self._state_lock:
            self._queue.clear()
            self.failures.clear()
            self._now = time.time() if start is None else start
        for hook in list(self.on_reset):
            hook(self)


class RealTimeDriver:
    """Advances a clock with the wall clock (times `speed`) from a daemon thread."""

    def __init__(self, clock: Clock, speed: float = 1.0, tick_seconds: float = 0.2) -> None:
        if speed <= 0:
            raise ClockError(f"clock speed must be positive, got {speed}")
        self.clock = clock
        self.speed = speed
        self._tick = tick_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="localcloud-clock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self._tick):
            current = time.monotonic()
            self.clock.advance((current - last) * self.speed)
            last = current


CLOCK = Clock()
"""The clock of this process's local cloud (its state, like moto's, is per process)."""
