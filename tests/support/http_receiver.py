"""A real HTTP server on 127.0.0.1 that records requests and answers from a script.

Used for Slack, Teams and PagerDuty receivers and for health-check targets, in the handler tests
and the end-to-end scenarios.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class ScriptedResponse:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str = b"ok"
    delay: float = 0.0
    # Called before answering; if it raises, the answer is a 503 instead. Tests use it to hold
    # answers until a condition holds (all requests in flight, or the test says so), so that
    # concurrency and timeouts are proven by what the client saw, not by reading a clock.
    hold: Callable[[], object] | None = None


def barrier_hold(parties: int, timeout: float = 10.0) -> Callable[[], object]:
    """A hold that answers only once ``parties`` requests are waiting at the same time."""
    barrier = threading.Barrier(parties, timeout=timeout)
    return barrier.wait


class Gate:
    """A hold that answers only after ``open()``; it gives up (503) after ``timeout`` seconds."""

    def __init__(self, timeout: float = 30.0) -> None:
        self._opened = threading.Event()
        self._timeout = timeout

    def __call__(self) -> None:
        if not self._opened.wait(self._timeout):
            raise TimeoutError(f"gate not opened within {self._timeout:g}s")

    def open(self) -> None:
        self._opened.set()


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog of 5 would drop the SYNs of a burst of concurrent checks,
    # which the client then retries a second later.
    request_queue_size = 128
    daemon_threads = True


class HttpReceiver:
    """A real ThreadingHTTPServer on 127.0.0.1:<free port> that records requests.

    Answers come from a FIFO of scripted responses; when it is empty, ``default`` is used.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.default = ScriptedResponse()
        self._script: queue.Queue[ScriptedResponse] = queue.Queue()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        # A short poll interval keeps shutdown() (it waits one poll) from slowing every test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (append any path)."""
        return f"http://127.0.0.1:{self.port}"

    def script(
        self,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes | str = b"ok",
        delay: float = 0.0,
        hold: Callable[[], object] | None = None,
    ) -> HttpReceiver:
        self._script.put(ScriptedResponse(status, dict(headers or {}), body, delay, hold))
        return self

    def next_response(self) -> ScriptedResponse:
        try:
            return self._script.get_nowait()
        except queue.Empty:
            return self.default

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.record(
                    RecordedRequest(self.command, self.path, dict(self.headers.items()), body)
                )
                answer = receiver.next_response()
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.hold is not None:
                    answer = _held(answer)
                payload = (
                    answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
                )
                try:
                    self.send_response(answer.status)
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test): nothing left to answer

            do_GET = do_POST = do_PUT = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep pytest output clean; requests are in receiver.requests

        return Handler


def _held(answer: ScriptedResponse) -> ScriptedResponse:
    assert answer.hold is not None
    try:
        answer.hold()
    except (threading.BrokenBarrierError, TimeoutError) as error:
        return ScriptedResponse(503, body=f"hold broken: {error!r}")
    return answer
