"""The one place that builds AWS clients: real AWS, any endpoint, or the in-process localcloud.

Every client gets botocore's standard retry mode (throttling and transient errors retried with
jittered backoff), so callers only handle errors a retry cannot fix.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session

from portfolio.errors import AwsCallError, TargetError

CallHook = Callable[..., None]
# Placeholder credentials for a local endpoint: it accepts any, and we must not require real ones.
_LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_RETRIES: Any = {"mode": "standard", "max_attempts": 8}
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
        return f"AWS (profile {self.profile or 'default chain'})"


class AwsClients:
    """Creates and caches boto3 clients per (service, region) for one target."""

    def __init__(self, target: Target, hooks: tuple[CallHook, ...] = ()) -> None:
        self.target = target
        self._hooks = hooks
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

    def _new_client(self, service: str, region: str) -> Any:
        config = botocore.config.Config(
            retries=_RETRIES,
            connect_timeout=10,
            read_timeout=60,
        )
        extra: dict[str, Any] = {}
        if self.target.endpoint_url:
            extra = {"endpoint_url": self.target.endpoint_url}
            if self._session.get_credentials() is None:
                extra.update(_LOCAL_CREDENTIALS)
        client = self._session.client(service, region_name=region, config=config, **extra)
        for hook in self._hooks:
            client.meta.events.register("before-call.*.*", hook)
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
def aws_errors(target: Target) -> Iterator[None]:
    """Turn botocore's errors into one-line PublishErrors for the CLI (no tracebacks)."""
    try:
        yield
    except botocore.exceptions.ClientError as error:
        raise AwsCallError(f"{error} (target: {target.describe()})") from error
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
    ) as error:
        raise TargetError(f"cannot reach {target.describe()}: {error}") from error
    except botocore.exceptions.NoCredentialsError as error:
        raise TargetError(
            f"no AWS credentials for {target.describe()}; use --local or "
            "--endpoint-url URL, or configure a profile"
        ) from error
    except botocore.exceptions.BotoCoreError as error:  # read timeouts, dropped connections...
        raise AwsCallError(f"{error} (target: {target.describe()})") from error


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
