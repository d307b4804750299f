"""Settings, header secrets and the concurrent run of all probes."""

from __future__ import annotations

import math
import re
import resource
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from health_netguard import literal_address, refusal_reason
from health_probes import CheckResult
from health_targets import HttpTarget, Target, TcpTarget, load_ssm_targets, parse_targets
from oncall_shared.errors import SettingsError
from oncall_shared.settings import (
    env_bool,
    env_int,
    env_json,
    env_str,
    require_str,
    secret_json_object,
)

# Every probe in flight at once when possible: a smaller limit queues probes behind slow ones.
# The probes are coroutines on one event loop; each holds one socket while it runs, and Lambda
# allows 1,024 file descriptors (and 1,024 threads) per execution environment, so the number in
# flight stops short of that with room for the runtime, botocore's connections, the state reads
# that run beside the probes and the DNS threads.
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
    _refuse_literal_addresses(targets, source, allow_private)
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
    inline = env_json("TARGETS", None)
    if inline not in (None, []):
        return "TARGETS", inline
    parameter_name = env_str("TARGETS_SSM_PARAMETER")
    if parameter_name is not None:
        return "TARGETS_SSM_PARAMETER", load_ssm_targets(parameter_name)
    raise SettingsError(
        f"TARGETS={env_str('TARGETS', '') or ''!r} and TARGETS_SSM_PARAMETER='': "
        "no targets to check; set a non-empty TARGETS list or an SSM parameter name"
    )


def _refuse_literal_addresses(targets: list[Target], source: str, allow_private: bool) -> None:
    """An IP literal can be judged now, so a forbidden one is a settings error, not an outage."""
    for index, target in enumerate(targets):
        host = target.host if isinstance(target, TcpTarget) else urlsplit(target.url).hostname or ""
        address = literal_address(host)
        reason = refusal_reason(address, allow_private) if address is not None else None
        if reason is not None:
            raise SettingsError(f"{source}[{index}] host {host!r}: {reason}")


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


def run_checks(
    settings: HealthSettings,
    headers: Mapping[str, Mapping[str, str]],
    budget_seconds: float,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Probe every target at once; the run takes about as long as the slowest probe.

    ``on_result`` sees each result as its probe ends (a probe given up on, at the end): work
    done there, such as writing its metrics, overlaps the wait for the slower targets.
    """
    timeouts = {
        target.name: min(target.timeout_seconds or settings.timeout_seconds, budget_seconds)
        for target in settings.targets
    }
    # asyncio and the probe code load here, on the first run, not when Lambda imports the
    # handler: the import budget (docs/benchmarks.md, cold starts) has no room for asyncio.
    from health_probe_io import ProbePlan, run_probes

    in_flight = pool_size(len(settings.targets))
    plan = ProbePlan(
        targets=settings.targets,
        timeouts=timeouts,
        headers=headers,
        allow_private=settings.allow_private,
        in_flight=in_flight,
        deadline_seconds=_run_deadline(timeouts, in_flight, budget_seconds),
    )
    return run_probes(plan, on_result if on_result is not None else _ignore)


def _ignore(result: CheckResult) -> None:
    return None


def pool_size(target_count: int) -> int:
    """How many probes run at once: every target, within the file-descriptor limits."""
    soft_files, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    file_room = MAX_WORKERS if soft_files == resource.RLIM_INFINITY else soft_files
    return max(1, min(target_count, MAX_WORKERS, file_room - _RESERVED_THREADS_AND_FILES))


def _run_deadline(timeouts: Mapping[str, float], in_flight: int, budget_seconds: float) -> float:
    """How long to wait for the probes: one wave per limit-full of targets, within the budget."""
    waves = math.ceil(len(timeouts) / in_flight)
    return min(waves * max(timeouts.values()), budget_seconds) + _STRAGGLER_GRACE_SECONDS
