"""Settings, header secrets and the concurrent run of all probes."""

from __future__ import annotations

import math
import re
import resource
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from health_probes import CheckResult, SharedTlsContext, check_http, check_tcp
from health_targets import (
    HttpTarget,
    Target,
    TcpTarget,
    load_ssm_targets,
    parse_targets,
    refuse_literal_addresses,
    targets_json,
)
from oncall_shared.errors import SettingsError
from oncall_shared.settings import (
    env_bool,
    env_int,
    env_str,
    require_str,
    secret_json_object,
)

# One thread per target when possible: a smaller pool queues probes behind slow ones. Lambda
# allows 1,024 threads and 1,024 file descriptors per execution environment, and each probe
# holds one thread and one socket, so the pool stops short of both with room for the runtime,
# botocore's connections and the state reads that run beside the probes.
LAMBDA_THREAD_LIMIT = 1024
_RESERVED_THREADS_AND_FILES = 64
MAX_WORKERS = LAMBDA_THREAD_LIMIT - _RESERVED_THREADS_AND_FILES
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")
# Time allowed past the slowest per-check timeout before a stuck probe is declared timed out.
_STRAGGLER_GRACE_SECONDS = 1.0
# Leave this much of the Lambda timeout for state writes and the alert after the probes.
LAMBDA_RESERVE_SECONDS = 3.0


@dataclass(frozen=True)
class HealthSettings:
    targets: list[Target]
    state_table: str
    topic_arn: str
    environment: str
    failure_threshold: int
    timeout_seconds: float
    allow_private: bool


def load_settings() -> HealthSettings:
    """Read and validate every setting before any probe or write happens."""
    source, raw_targets = _raw_targets()
    allow_private = env_bool("ALLOW_PRIVATE_NETWORKS", False)
    targets = parse_targets(raw_targets, source)
    refuse_literal_addresses(targets, source, allow_private)
    return HealthSettings(
        targets=targets,
        state_table=require_str("STATE_TABLE"),
        topic_arn=require_str("ALERT_TOPIC_ARN"),
        environment=env_str("ENVIRONMENT", "unknown") or "unknown",
        failure_threshold=env_int("FAILURE_THRESHOLD", 3, minimum=1, maximum=100),
        timeout_seconds=float(env_int("CHECK_TIMEOUT_SECONDS", 5, minimum=1, maximum=60)),
        allow_private=allow_private,
    )


def _raw_targets() -> tuple[str, Any]:
    """(setting name, JSON) of the target list: TARGETS, else the SSM parameter.

    An inline "[]" counts as unset: the product template defaults TARGETS to "[]", and a stack
    that keeps its targets in SSM must not fail on that placeholder.
    """
    text = env_str("TARGETS")
    inline = targets_json(text, "TARGETS") if text is not None else None  # never echoes the text
    if inline not in (None, []):
        return "TARGETS", inline
    parameter_name = env_str("TARGETS_SSM_PARAMETER")
    if parameter_name is not None:
        return "TARGETS_SSM_PARAMETER", load_ssm_targets(parameter_name)
    raise SettingsError(
        f"TARGETS={env_str('TARGETS', '') or ''!r} and TARGETS_SSM_PARAMETER='': "
        "no targets to check; set a non-empty TARGETS list or an SSM parameter name"
    )


def load_secret_headers(targets: list[Target]) -> dict[str, dict[str, str]]:
    """Headers per target name, fetched once per secret ARN from Secrets Manager."""
    by_arn: dict[str, dict[str, str]] = {}
    by_target: dict[str, dict[str, str]] = {}
    for target in targets:
        if isinstance(target, HttpTarget) and target.headers_secret_arn:
            arn = target.headers_secret_arn
            if arn not in by_arn:
                by_arn[arn] = _read_header_secret(arn, target.name)
            by_target[target.name] = by_arn[arn]
    return by_target


def _read_header_secret(arn: str, target_name: str) -> dict[str, str]:
    problem = f"target {target_name!r} headers_secret_arn={arn!r}"
    expected = "a JSON object of header: value strings"
    try:
        headers = secret_json_object(arn, problem, expected)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        raise SettingsError(f"{problem}: cannot be read ({code})") from error
    if not all(isinstance(value, str) for value in headers.values()):
        raise SettingsError(f"{problem}: SecretString must be {expected}")
    for name, value in headers.items():
        # http.client would raise a bare ValueError mid-run on these; header injection too.
        if not _HEADER_NAME.match(name) or _FORBIDDEN_IN_VALUE.search(value):
            raise SettingsError(f"{problem}: header {name!r} has an invalid name or value")
    return headers


class WarmRun:
    """What a warm execution environment keeps from one run to the next: each target's latency
    and the probe threads.

    Python runs one probe at a time (the GIL), so starting 1,000 probes takes most of a second;
    a slow target started last finishes that long after the others. Starting the targets that
    took longest last time first (longest-processing-time-first scheduling) lets the slow waits
    overlap the start of all the others, and threads kept from the last run start at once. A
    new execution environment knows nothing: it starts the targets in list order.
    """

    def __init__(self) -> None:
        self._latency_ms: dict[str, float] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0

    def arrange(self, targets: list[Target]) -> list[Target]:
        """Slowest first; a target not seen before leads (it may be slow), ties keep list order."""
        return sorted(targets, key=lambda target: -self._latency_ms.get(target.name, math.inf))

    def pool(self, workers: int) -> ThreadPoolExecutor:
        """The last run's threads when there are enough of them, else a new pool."""
        if self._pool is None or self._pool_size < workers:
            self.drop_pool()
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
            self._pool_size = workers
        return self._pool

    def drop_pool(self) -> None:
        """Let the threads end (a straggler when its socket times out); the next run makes new."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def remember(self, results: list[CheckResult]) -> None:
        """This run's latencies replace the last ones, so removed targets are forgotten."""
        self._latency_ms = {result.name: result.latency_ms for result in results}


def run_checks(
    settings: HealthSettings,
    headers: Mapping[str, Mapping[str, str]],
    budget_seconds: float,
    on_result: Callable[[CheckResult], None] = lambda result: None,
    warm: WarmRun | None = None,
) -> list[CheckResult]:
    """Probe every target at once; the run takes about as long as the slowest probe.

    ON_RESULT sees each result once, on this thread, as it comes in (a probe that does not
    answer in time: when the wait ends); the list is in the targets' order. With WARM, the
    targets slowest last time start first, on the threads of the last run."""
    timeouts = {
        target.name: min(target.timeout_seconds or settings.timeout_seconds, budget_seconds)
        for target in settings.targets
    }
    started = warm.arrange(settings.targets) if warm is not None else settings.targets
    workers = pool_size(len(settings.targets))
    pool = warm.pool(workers) if warm is not None else ThreadPoolExecutor(max_workers=workers)
    tls = SharedTlsContext()
    futures: dict[str, Future[CheckResult]] = {}
    try:
        for target in started:
            futures[target.name] = pool.submit(
                _probe, target, timeouts[target.name], settings, headers, tls
            )
        reported = _report_as_completed(
            futures, timeouts, _run_deadline(timeouts, workers, budget_seconds), on_result
        )
        results = [
            reported.get(target.name) or _report_late(target.name, futures, timeouts, on_result)
            for target in settings.targets
        ]
    finally:
        _wind_down(pool, futures, warm)
    if warm is not None:
        warm.remember(results)
    return results


def _wind_down(
    pool: ThreadPoolExecutor, futures: Mapping[str, Future[CheckResult]], warm: WarmRun | None
) -> None:
    """Never block on a straggler: its socket timeout ends it, its result is already judged.

    Probes not started are cancelled. A pool with a probe still running is not kept for the
    next run, which would find one thread fewer than it counts on."""
    for future in futures.values():
        future.cancel()  # only a probe that has not started can be cancelled
    if warm is None:
        pool.shutdown(wait=False, cancel_futures=True)
    elif not all(future.done() for future in futures.values()):
        warm.drop_pool()


def _report_as_completed(
    futures: Mapping[str, Future[CheckResult]],
    timeouts: Mapping[str, float],
    deadline: float,
    on_result: Callable[[CheckResult], None],
) -> dict[str, CheckResult]:
    """Hand each result to ON_RESULT as its probe ends, until all did or DEADLINE passed."""
    names = {future: name for name, future in futures.items()}
    reported: dict[str, CheckResult] = {}
    try:
        for future in as_completed(futures.values(), timeout=deadline):
            name = names[future]
            reported[name] = _collect(name, future, timeouts[name])
            on_result(reported[name])
    except TimeoutError:
        pass  # the probes still running are judged by the caller
    return reported


def _report_late(
    name: str,
    futures: Mapping[str, Future[CheckResult]],
    timeouts: Mapping[str, float],
    on_result: Callable[[CheckResult], None],
) -> CheckResult:
    """The result of a probe still running when the wait ended, handed on once."""
    result = _collect(name, futures[name], timeouts[name])
    on_result(result)
    return result


def pool_size(target_count: int) -> int:
    """As many threads as targets, within the thread and file-descriptor limits of the process."""
    soft_files, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    file_room = MAX_WORKERS if soft_files == resource.RLIM_INFINITY else soft_files
    return max(1, min(target_count, MAX_WORKERS, file_room - _RESERVED_THREADS_AND_FILES))


def _run_deadline(timeouts: Mapping[str, float], workers: int, budget_seconds: float) -> float:
    """How long to wait for the probes: one wave per pool-full of targets, within the budget."""
    waves = math.ceil(len(timeouts) / workers)
    return min(waves * max(timeouts.values()), budget_seconds) + _STRAGGLER_GRACE_SECONDS


def _probe(
    target: Target,
    timeout: float,
    settings: HealthSettings,
    headers: Mapping[str, Mapping[str, str]],
    tls: SharedTlsContext,
) -> CheckResult:
    if isinstance(target, TcpTarget):
        return check_tcp(target, timeout, settings.allow_private)
    return check_http(target, timeout, settings.allow_private, headers.get(target.name, {}), tls)


def _collect(name: str, future: Future[CheckResult], timeout: float) -> CheckResult:
    if not future.done():
        return CheckResult(name, False, timeout * 1000.0, f"no answer within {timeout:g}s")
    # A probe converts network failures to results; anything raised here is a bug and must surface.
    return future.result()
