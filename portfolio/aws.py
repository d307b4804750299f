"""The one place that builds AWS clients: real AWS, any endpoint, or the in-process localcloud.

Every client gets botocore's standard retry mode (throttling and transient errors retried with
jittered backoff), so callers only handle errors a retry cannot fix.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session

from portfolio.errors import AwsCallError, PublishError, TargetError

CallHook = Callable[..., None]
# Placeholder credentials for a local endpoint: it accepts any, and we must not require real ones.
_LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_RETRIES: Any = {"mode": "standard", "max_attempts": 8}
# Bounded waits for an endpoint that accepts connections and never answers (or never accepts):
# seconds, overridable for slow links or tests. botocore's default of 60 s read timeout with 8
# attempts kept a command silent for 9 minutes; an endpoint that did not answer is tried twice.
CONNECT_TIMEOUT_ENV, READ_TIMEOUT_ENV = "CATALOG_CONNECT_TIMEOUT", "CATALOG_READ_TIMEOUT"
DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT = 5.0, 30.0
NO_ANSWER_ATTEMPTS = 2
_NO_ANSWER = (
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
)
# Loading botocore's service models costs ~0.2 s per client and session; the models are
# read-only, so every session of this process shares one caching loader.
_SHARED_LOADER = botocore.loaders.create_loader()


@dataclass(frozen=True)
class Target:
    """Where to talk to: an endpoint URL (local or compatible) or real AWS via a profile."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None  # restricts a run to this one region of the portfolio

    def describe(self) -> str:
        if self.endpoint_url:
            return f"endpoint {self.endpoint_url}"
        if os.environ.get("AWS_ENDPOINT_URL"):  # botocore's own setting applies to every client
            return f"endpoint {os.environ['AWS_ENDPOINT_URL']} (AWS_ENDPOINT_URL)"
        return f"AWS (profile {self.profile or 'default chain'})"


def check_endpoint_url(url: str, source: str) -> None:
    """Refuse what botocore would refuse with a bare 'Invalid endpoint' (or misread)."""
    parts = urllib.parse.urlsplit(url)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number in 1-65535
        valid = False
    if not valid:
        hint = f"; did you mean http://{url}?" if ":" in url and "/" not in url else ""
        raise TargetError(
            f"{source} {url!r} is not an http:// or https:// URL with a host "
            f"(e.g. http://127.0.0.1:4566){hint}"
        )


def timeouts() -> tuple[float, float]:
    """(connect, read) timeouts in seconds, from the environment or the defaults."""
    return (
        _seconds(CONNECT_TIMEOUT_ENV, DEFAULT_CONNECT_TIMEOUT),
        _seconds(READ_TIMEOUT_ENV, DEFAULT_READ_TIMEOUT),
    )


def _seconds(variable: str, default: float) -> float:
    text = os.environ.get(variable, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise TargetError(f"{variable} {text!r} is not a number of seconds in (0, 3600]")
    return value


class AwsClients:
    """Creates and caches boto3 clients per (service, region) for one target."""

    def __init__(
        self, target: Target, hooks: tuple[CallHook, ...] = (), log: CallLog | None = None
    ) -> None:
        self.target = target
        self._hooks = hooks
        self.log = log or CallLog()
        self._timeouts = timeouts()
        self._session = _session(target)
        self._clients: dict[tuple[str, str], Any] = {}
        # boto3 sessions are not thread-safe for client creation.
        self._lock = threading.Lock()
        self._check_credentials()

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            if (service, region) not in self._clients:
                self._clients[(service, region)] = self._new_client(service, region)
            return self._clients[(service, region)]

    @property
    def hooks(self) -> tuple[CallHook, ...]:
        """The before-call hooks every client of this target runs (and clients derived from it)."""
        return self._hooks

    def account_id(self, region: str) -> str:
        identity = self.client("sts", region).get_caller_identity()
        return str(identity["Account"])

    def invoke_client(self, region: str, read_timeout: float) -> Any:
        """A Lambda client for synchronous Invoke: a read waits READ_TIMEOUT seconds (the
        function's run) and each call is tried once, since a retry would run the event again."""
        return self._new_client("lambda", region, read_timeout, {"max_attempts": 1})

    def _new_client(
        self, service: str, region: str, read_timeout: float | None = None, retries: Any = None
    ) -> Any:
        connect, read = self._timeouts
        config = botocore.config.Config(
            retries=retries or _RETRIES, connect_timeout=connect, read_timeout=read_timeout or read
        )
        extra: dict[str, Any] = {}
        if self.target.endpoint_url:
            extra = {"endpoint_url": self.target.endpoint_url}
            if self._session.get_credentials() is None:
                extra.update(_LOCAL_CREDENTIALS)
        try:
            client = self._session.client(service, region_name=region, config=config, **extra)
        except ValueError as error:  # botocore's "Invalid endpoint: URL" from AWS_ENDPOINT_URL*
            raise TargetError(
                f"{service} in {region}: {error} (set by AWS_ENDPOINT_URL or "
                "AWS_ENDPOINT_URL_<SERVICE>); use an http:// or https:// URL"
            ) from error
        for hook in self._hooks:
            client.meta.events.register("before-call.*.*", hook)
        self.log.attach(client)
        return client

    def _check_credentials(self) -> None:
        if self.target.endpoint_url or self._session.get_credentials() is not None:
            return
        raise TargetError(
            f"no AWS credentials found for {self.target.describe()}; configure a profile "
            "(--profile), or use --local for the embedded local AWS, or --endpoint-url URL"
        )


def _session(target: Target) -> boto3.session.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _SHARED_LOADER)
    if target.profile and target.profile not in core.available_profiles:
        raise TargetError(
            f"AWS profile {target.profile!r} not found in the AWS config "
            f"(known: {', '.join(core.available_profiles) or 'none'})"
        )
    return boto3.session.Session(botocore_session=core, profile_name=target.profile)


@contextlib.contextmanager
def aws_errors(target: Target, log: CallLog | None = None) -> Iterator[None]:
    """Turn botocore's errors into one-line PublishErrors for the CLI (no tracebacks), labelled
    with the region, the step and the endpoint of the call that failed (LOG saw it)."""
    try:
        yield
    except botocore.exceptions.NoCredentialsError as error:
        raise TargetError(
            f"no AWS credentials for {target.describe()}; use --local or "
            "--endpoint-url URL, or configure a profile"
        ) from error
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise failure_error(error, target, log) from error


def failure_error(error: Exception, target: Target, log: CallLog | None) -> PublishError:
    """The one-line error for a failed AWS call: "REGION: STEP: SERVICE Operation at ENDPOINT
    ...", or the target when no call was seen (e.g. a failure before the first request)."""
    failed = log.failure_of(error) if log else None
    if failed is None:
        if isinstance(error, _NO_ANSWER):
            return TargetError(f"cannot reach {target.describe()}: {error}")
        return AwsCallError(f"{error} (target: {target.describe()})")
    return _labelled(error, f"{failed.label()} at {failed.endpoint}")


def _labelled(error: Exception, where: str) -> PublishError:
    if isinstance(error, botocore.exceptions.ReadTimeoutError):
        _, read = timeouts()
        return TargetError(
            f"{where}: no answer within {read:g} s ({NO_ANSWER_ATTEMPTS} attempts); the "
            f"endpoint accepts connections but does not respond (wait longer: {READ_TIMEOUT_ENV})"
        )
    if isinstance(error, botocore.exceptions.ConnectionClosedError):
        return TargetError(f"{where}: the connection closed without an answer")
    if isinstance(error, _NO_ANSWER):
        return TargetError(f"{where}: cannot connect: {error}")
    if isinstance(error, botocore.exceptions.ClientError):
        return AwsCallError(f"{where}: {error}")
    return AwsCallError(f"{where}: failed: {error}")


def error_code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


T = TypeVar("T")


def unless_not_found(call: Callable[[], T]) -> T | None:
    """CALL's answer, or None when AWS says the resource does not exist (yet, or any more)."""
    try:
        return call()
    except botocore.exceptions.ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise


READ_PREFIXES = ("Describe", "List", "Search", "Get", "Head", "Scan")


def is_write_operation(operation_name: str) -> bool:
    """Anything that is not a read: the test of 'a second publish makes no write call'."""
    return not operation_name.startswith(READ_PREFIXES)


class CallRecorder:
    """A before-call hook that records operation names (used by tests and by --debug).

    botocore emits before-call once per API request, before retries: a paginated listing
    counts one call per page, a throttled call that is retried counts once.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.services: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, **kwargs: Any) -> None:
        model = kwargs.get("model")
        if model is not None:
            with self._lock:
                self.calls.append(str(model.name))
                self.services.append(str(model.service_model.endpoint_prefix))

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.services.clear()

    @property
    def writes(self) -> list[str]:
        return [name for name in self.calls if is_write_operation(name)]

    @property
    def reads(self) -> list[str]:
        return [name for name in self.calls if not is_write_operation(name)]

    def summary(self) -> str:
        return f"{len(self.calls)} API calls ({len(self.reads)} reads, {len(self.writes)} writes)"

    def lines(self) -> list[str]:
        """One line per call, in order: "service Operation (read|write)"."""
        return [
            f"{service} {name} ({'write' if is_write_operation(name) else 'read'})"
            for service, name in zip(self.services, self.calls, strict=True)
        ]


# Where a CallLog made without an echo logs its calls: the CLI sets it while a command runs
# with --debug, so clients opened anywhere in that command are logged.
DEBUG_ECHO: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "catalog_debug_echo", default=None
)


@dataclass(frozen=True)
class CallRecord:
    """One finished AWS call: what --debug prints and what an error label names."""

    service: str
    operation: str
    region: str
    endpoint: str
    step: str
    outcome: str  # the HTTP status, or the exception's name when no response came
    seconds: float
    error_id: int | None = None  # id() of the exception the call raised, if any

    def label(self) -> str:
        step = f"{self.step}: " if self.step else ""
        return f"{self.region}: {step}{self.service} {self.operation}"

    def line(self) -> str:
        kind = "write" if is_write_operation(self.operation) else "read"
        return (
            f"{self.service} {self.operation} ({kind}) {self.region} {self.outcome} "
            f"{self.seconds * 1000:.0f} ms"
        )


class CallLog:
    """Every AWS call as it ends, from botocore's events (after retries: one record per call).

    ECHO (--debug) gets one line per call; the last failed call labels the error the CLI prints;
    STEP (set by the workflow with step()) says which part of the command made the call.
    """

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.echo = echo if echo is not None else DEBUG_ECHO.get()
        self._step = ""
        self._last_failure: CallRecord | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        previous, self._step = self._step, name
        try:
            yield
        finally:
            self._step = previous

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """No --debug lines inside (e.g. the bootstrap --local runs before the command's own)."""
        echo, self.echo = self.echo, None
        try:
            yield
        finally:
            self.echo = echo

    def attach(self, client: Any) -> None:
        endpoint = str(client.meta.endpoint_url)
        events = client.meta.events
        events.register("before-call.*.*", self._started)
        events.register_first("needs-retry.*.*", _give_up_without_answer)

        def answered(**kwargs: Any) -> None:
            status = str(kwargs["http_response"].status_code)
            self._ended(kwargs["context"], endpoint, status, None)

        def failed(**kwargs: Any) -> None:
            error = kwargs["exception"]
            self._ended(kwargs["context"], endpoint, type(error).__name__, error)

        events.register("after-call.*.*", answered)
        events.register("after-call-error.*.*", failed)

    def failure_of(self, error: Exception) -> CallRecord | None:
        """The call that failed with ERROR: the one that raised it, or for a ClientError (raised
        after the call's answer) the last call of that operation that was answered with one."""
        with self._lock:
            last = self._last_failure
        if last is None:
            return None
        if last.error_id == id(error):
            return last
        if isinstance(error, botocore.exceptions.ClientError):
            return last if last.operation == error.operation_name else None
        return None

    def _started(self, **kwargs: Any) -> None:
        model, context = kwargs["model"], kwargs["context"]
        context["catalog.call"] = (
            str(model.service_model.endpoint_prefix),
            str(model.name),
            time.monotonic(),
            self._step,
        )

    def _ended(
        self, context: dict[str, Any], endpoint: str, outcome: str, error: Exception | None
    ) -> None:
        service, operation, started, step = context["catalog.call"]
        record = CallRecord(
            service,
            operation,
            str(context.get("client_region", "")),
            endpoint,
            step,
            outcome,
            time.monotonic() - started,
            id(error) if error is not None else None,
        )
        if error is not None or not outcome.startswith(("2", "3")):
            with self._lock:
                self._last_failure = record
        if self.echo is not None:
            self.echo(f"call: {record.line()}")


def _give_up_without_answer(**kwargs: Any) -> None:
    """Retry an endpoint that did not answer only NO_ANSWER_ATTEMPTS times in all (throttling
    and 5xx keep the standard mode's 8): botocore has no per-error attempt limit, so this
    handler, run before the retry handler, ends the call by raising the error it caught."""
    caught = kwargs.get("caught_exception")
    if isinstance(caught, _NO_ANSWER) and kwargs.get("attempts", 0) >= NO_ANSWER_ATTEMPTS:
        raise caught
