"""Execution environments: one worker subprocess each, kept warm and reused like Lambda's.

A function's environments live in a `FunctionWorkers` pool keyed by what makes an environment
(code, handler, runtime, memory, timeout, environment variables): when any of those changes the
pool is retired and the next invocation starts fresh, as Lambda replaces its environments after
UpdateFunctionCode / UpdateFunctionConfiguration. At most `concurrency` workers run invocations at
once; the rest is throttled.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import WorkerCrashed, WorkerTimedOut

logger = logging.getLogger("localcloud.lambda")
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")


@dataclass(frozen=True)
class EnvironmentSpec:
    """Everything that defines an execution environment; a change means new environments."""

    function_arn: str
    code_dir: Path
    code_sha: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: float
    variables: tuple[tuple[str, str], ...]
    log_group: str


@dataclass
class Worker:
    """One execution environment: a bootstrap subprocess and its log stream."""

    process: subprocess.Popen[bytes]
    log_stream: str
    stderr_path: Path
    _buffer: bytes = field(default=b"", repr=False)

    def send(self, request: dict[str, Any]) -> None:
        stdin = self.process.stdin
        if stdin is None:  # pragma: no cover - always a pipe
            raise WorkerCrashed("the worker has no input pipe", self.exit_detail())
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise WorkerCrashed("the worker stopped reading", self.exit_detail()) from error

    def receive(self, timeout_s: float, on_log: Callable[[str], None]) -> dict[str, Any]:
        """The next answer, passing log events on as they come; WorkerTimedOut / WorkerCrashed."""
        deadline = time.monotonic() + timeout_s
        while True:
            message = self._next_message(deadline, timeout_s)
            if "log" not in message:
                return message
            on_log(str(message["log"]))

    def _next_message(self, deadline: float, timeout_s: float) -> dict[str, Any]:
        stdout: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimedOut(timeout_s)
            readable, _, _ = select.select([stdout], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(stdout.fileno(), 1 << 20)
            if not chunk:
                raise WorkerCrashed("the worker exited", self.exit_detail())
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)  # type: ignore[no-any-return]

    def exit_detail(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        code = self.process.poll()
        status = "still running" if code is None else f"exit status {code}"
        if code is not None and code < 0:
            status = f"signal: {-code}"
        return status

    def stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        with contextlib.suppress(OSError):
            self.stderr_path.unlink()


def start_worker(spec: EnvironmentSpec, environment: dict[str, str], log_stream: str) -> Worker:
    """Start a worker; its first message says how its init phase (the handler import) went."""
    handle, stderr_name = tempfile.mkstemp(prefix="localcloud-lambda-", suffix=".stderr")
    with os.fdopen(handle, "wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own bootstrap, no shell
            [sys.executable, "-I", str(BOOTSTRAP)],
            cwd=spec.code_dir,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    return Worker(process, log_stream, Path(stderr_name))


class FunctionWorkers:
    """The warm environments of one function version, bounded by its concurrency."""

    def __init__(self, spec: EnvironmentSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self.busy = 0
        self.retired = False

    def acquire(self, concurrency: int) -> tuple[Worker | None, int] | None:
        """An idle worker (or None: start one) and the new concurrency; None when throttled."""
        with self._lock:
            if self.busy >= concurrency:
                return None
            self.busy += 1
            worker = self._idle.pop() if self._idle else None
            return worker, self.busy

    def release(self, worker: Worker | None, reusable: bool) -> None:
        with self._lock:
            self.busy -= 1
            keep = reusable and not self.retired and worker is not None
            if keep and worker is not None:
                self._idle.append(worker)
                return
        if worker is not None:
            worker.kill()

    def retire(self) -> None:
        with self._lock:
            self.retired = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()
