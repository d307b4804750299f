"""Fixtures shared by every handler's tests (see the handler contract).

Typical use:
    def test_x(aws_env, load_handler, lambda_context, event, monkeypatch):
        monkeypatch.setenv("ALERT_TOPIC_ARN", topic_arn)  # settings BEFORE load_handler:
        app = load_handler("alert_handler")  # handlers read them at import (cold start)
        app.lambda_handler(event("alarm_sns_metric"), lambda_context)
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from moto import mock_aws

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLERS_DIR = REPO_ROOT / "handlers"
SHARED_DIR = HANDLERS_DIR / "shared"
EVENTS_DIR = REPO_ROOT / "tests" / "events"

if str(SHARED_DIR) not in sys.path:
    sys.path.insert(0, str(SHARED_DIR))

from oncall_shared import aws as shared_aws  # noqa: E402
from oncall_shared import http as shared_http  # noqa: E402

# ---------------------------------------------------------------- handler loading


def _forget_tool_modules(tool_dir: Path) -> None:
    """Drop the tool's own modules so every load is a cold start with the current env."""
    # Plain string comparison: resolving every module path costs ~30k stat calls per load.
    directory = str(tool_dir)
    for name, module in list(sys.modules.items()):
        module_file = getattr(module, "__file__", None)
        if module_file and module_file.rpartition(os.sep)[0] == directory:
            del sys.modules[name]


def import_handler(tool: str) -> ModuleType:
    tool_dir = (HANDLERS_DIR / tool).resolve()
    app_file = tool_dir / "app.py"
    if not app_file.is_file():
        raise FileNotFoundError(f"handler {tool!r} has no {app_file}")
    if str(tool_dir) not in sys.path:
        sys.path.insert(0, str(tool_dir))
    _forget_tool_modules(tool_dir)
    module_name = f"{tool}_app"
    spec = importlib.util.spec_from_file_location(module_name, app_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


@pytest.fixture
def load_handler() -> Callable[[str], ModuleType]:
    """load_handler(tool) -> freshly imported handlers/<tool>/app.py as module '<tool>_app'."""
    return import_handler


# ---------------------------------------------------------------- Lambda context


@dataclass
class FakeLambdaContext:
    function_name: str = "oncall-test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:oncall-test-function"
    )
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"
    log_group_name: str = "/aws/lambda/oncall-test-function"
    log_stream_name: str = "2026/11/28/[$LATEST]0123456789abcdef"
    timeout_millis: int = 60_000
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = int((time.monotonic() - self.started) * 1000)
        return max(self.timeout_millis - elapsed, 0)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


# ---------------------------------------------------------------- AWS (moto)

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "OncallTools",
    "ENVIRONMENT": "test",
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's mock_aws active, fake credentials, us-east-1, and no cached boto3 clients."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in [key for key in os.environ if key.startswith("AWS_ENDPOINT_URL")] + ["AWS_PROFILE"]:
        monkeypatch.delenv(name, raising=False)
    shared_aws.reset_clients()
    with mock_aws():
        yield
    shared_aws.reset_clients()


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make oncall_shared.http retries instant; returns the list of requested sleeps."""
    slept: list[float] = []
    monkeypatch.setattr(shared_http, "DEFAULT_SLEEP", slept.append)
    return slept


# ---------------------------------------------------------------- event fixtures


@pytest.fixture
def event() -> Callable[[str], dict[str, Any]]:
    """event(name) -> a fresh copy of tests/events/<name>.json."""

    def load(name: str) -> dict[str, Any]:
        path = EVENTS_DIR / f"{name}.json"
        return copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))

    return load


# ---------------------------------------------------------------- real HTTP receivers


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


class HttpReceiver:
    """A real ThreadingHTTPServer on 127.0.0.1:<free port> that records requests.

    Answers come from a FIFO of scripted responses; when it is empty, ``default`` is used.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.default = ScriptedResponse()
        self._script: queue.Queue[ScriptedResponse] = queue.Queue()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
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
    ) -> HttpReceiver:
        self._script.put(ScriptedResponse(status, dict(headers or {}), body, delay))
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


@pytest.fixture
def make_http_receiver() -> Iterator[Callable[[], HttpReceiver]]:
    """Factory for several receivers in one test (e.g. Slack + Teams + PagerDuty)."""
    created: list[HttpReceiver] = []

    def make() -> HttpReceiver:
        receiver = HttpReceiver()
        created.append(receiver)
        return receiver

    yield make
    for receiver in created:
        receiver.close()


@pytest.fixture
def http_receiver(make_http_receiver: Callable[[], HttpReceiver]) -> HttpReceiver:
    return make_http_receiver()
