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
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
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


class CountdownContext(FakeLambdaContext):
    """Lambda's context answering the given remaining times in turn, then the last one.

    The Lambda runtime has no local counterpart; this stands in for a function whose time runs
    low part-way through an invocation, without a test that waits for a clock.
    """

    def __init__(self, *remaining_ms: int) -> None:
        super().__init__()
        self.answers = list(remaining_ms)
        self.calls = 0

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


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
    # Keeping boto3's default session keeps its parsed service models: re-reading them per
    # test (moto's default) costs about a second a test. Credentials and region come from
    # the environment on every client creation, so nothing stale leaks between tests.
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield
    shared_aws.reset_clients()


def use_local_aws_with_table(endpoint: str, monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    """Point the handlers' AWS clients at localcloud over HTTP and create TABLE there, keyed as
    the products' tables are (a string "pk"); reset the cached clients again when done."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    shared_aws.reset_clients()
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


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


from tests.support.http_receiver import HttpReceiver, RecordedRequest, ScriptedResponse  # noqa: E402,F401


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


# ---------------------------------------------------------------- packaged zips


# What the Lambda Python runtime provides besides the stdlib: a zip must bring everything else.
LAMBDA_RUNTIME_PACKAGES = (
    "boto3",
    "botocore",
    "jmespath",
    "s3transfer",
    "dateutil",
    "urllib3",
    "six",
)
PACKAGED_RUNNER = """
import json, sys
class Context:
    function_name = "packaged-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:packaged-test"
    aws_request_id = "packaged-test-request"
    def get_remaining_time_in_millis(self):
        return 30000
import app
import aws_lambda_powertools
print("POWERTOOLS_FROM " + aws_lambda_powertools.__file__)
event = json.loads(sys.stdin.read())
try:
    result = app.lambda_handler(event, Context())
except Exception as error:
    print("ERROR " + type(error).__name__ + ": " + str(error))
    sys.exit(3)
print("RESULT " + json.dumps(result, default=str))
print("XRAY_SDK_LOADED " + str("aws_xray_sdk" in sys.modules))
"""


@dataclass
class PackagedRun:
    returncode: int
    stdout: str
    stderr: str

    def marker(self, prefix: str) -> str | None:
        for line in self.stdout.splitlines():
            if line.startswith(prefix + " "):
                return line[len(prefix) + 1 :]
        return None

    @property
    def result(self) -> Any:
        text = self.marker("RESULT")
        return None if text is None else json.loads(text)


@pytest.fixture(scope="session")
def lambda_runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only what the Lambda runtime ships (links into this venv)."""
    import importlib

    target = tmp_path_factory.mktemp("lambda-runtime")
    for name in LAMBDA_RUNTIME_PACKAGES:
        module_file = Path(str(importlib.import_module(name).__file__))
        source = module_file.parent if module_file.name == "__init__.py" else module_file
        (target / source.name).symlink_to(source)
    return target


@pytest.fixture
def packaged_handler(tmp_path: Path) -> Callable[[str], Path]:
    """packaged_handler(tool) -> folder holding the extracted zip from products.packaging."""
    import fcntl
    import zipfile

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from products.packaging import build_handler_zip

    def build(tool: str) -> Path:
        lock_path = REPO_ROOT / ".cache" / "handler-zip.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        # Parallel workers share the dependency cache; one build at a time avoids a torn install.
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            archive = build_handler_zip(tool, tmp_path / "dist")
        extracted = tmp_path / f"{tool}-extracted"
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(extracted)
        return extracted

    return build


@pytest.fixture
def run_packaged(lambda_runtime_dir: Path) -> Callable[[Path, Any, dict[str, str]], PackagedRun]:
    """Run app.lambda_handler(event) from an extracted zip in a fresh `python -S` (no venv)."""
    import subprocess

    def run(extracted: Path, event_body: Any, env: dict[str, str]) -> PackagedRun:
        child_env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": f"{extracted}:{lambda_runtime_dir}",
        }
        child_env.update(env)
        done = subprocess.run(
            [sys.executable, "-S", "-c", PACKAGED_RUNNER],
            input=json.dumps(event_body),
            capture_output=True,
            text=True,
            env=child_env,
            cwd=extracted,
            timeout=120,
            check=False,
        )
        return PackagedRun(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_server(_moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """URL of a moto server on 127.0.0.1 with fresh state; this process's boto3 talks to it too."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", _moto_server)
    shared_aws.reset_clients()
    return _moto_server


# ---------------------------------------------------------------- X-Ray daemon stand-in


class XRayDaemon:
    """A UDP socket on 127.0.0.1 standing where Lambda's X-Ray daemon listens."""

    def __init__(self) -> None:
        import socket

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.setblocking(False)  # read after the run: what was sent is queued already
        self.port = int(self.socket.getsockname()[1])
        self.datagrams: list[str] = []

    def documents(self) -> list[dict[str, Any]]:
        """Segment documents received so far (a datagram: a JSON header line, then one)."""
        while True:
            try:
                self.datagrams.append(self.socket.recv(65_536).decode("utf-8"))
            except BlockingIOError:
                break
        return [json.loads(datagram.split("\n", 1)[1]) for datagram in self.datagrams]

    def env(self, sampled: bool) -> dict[str, str]:
        """What Lambda sets for a traced (or untraced) invocation of a function."""
        flag = "1" if sampled else "0"
        return {
            "_X_AMZN_TRACE_ID": f"{XRAY_TRACE_ROOT};Sampled={flag}",
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{self.port}",
            "AWS_LAMBDA_FUNCTION_NAME": "oncall-packaged-test",
        }


XRAY_TRACE_ROOT = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"


@pytest.fixture
def xray_daemon() -> Iterator[XRayDaemon]:
    daemon = XRayDaemon()
    yield daemon
    daemon.socket.close()
