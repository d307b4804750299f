"""What a probe found and how it is judged; the probes themselves run on an event loop
(health_probe_io), imported with asyncio on the first check, not at the handler's import."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from health_targets import HttpTarget, TcpTarget

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 1_048_576  # body_contains looks at the first MiB; a health page is small


@dataclass(frozen=True)
class CheckResult:
    name: str
    healthy: bool
    latency_ms: float
    detail: str
    status_code: int | None = None


@dataclass(frozen=True)
class Response:
    status: int
    location: str | None
    body: bytes


def check_tcp(target: TcpTarget, timeout: float, allow_private: bool) -> CheckResult:
    """One TCP check on its own event loop (the handler runs many on one: run_probes)."""
    import asyncio  # not at import: see the module docstring

    from health_probe_io import ProbeNetwork, probe_tcp

    return asyncio.run(probe_tcp(target, timeout, ProbeNetwork(allow_private)))


def check_http(
    target: HttpTarget, timeout: float, allow_private: bool, headers: Mapping[str, str]
) -> CheckResult:
    """One HTTP(S) check on its own event loop (the handler runs many on one)."""
    import asyncio  # not at import: see the module docstring

    from health_probe_io import ProbeNetwork, probe_http

    return asyncio.run(probe_http(target, timeout, ProbeNetwork(allow_private), headers))


def judge_http(target: HttpTarget, response: Response, latency: float, url: str) -> CheckResult:
    where = f"{target.method} {origin(url)}"
    if response.status not in target.expected_status:
        expected = sorted(target.expected_status)
        return CheckResult(
            target.name,
            False,
            latency,
            f"{where}: HTTP {response.status}, expected {expected}",
            response.status,
        )
    if target.body_contains is not None:
        text = response.body.decode("utf-8", errors="replace")
        if target.body_contains not in text:
            return CheckResult(
                target.name,
                False,
                latency,
                f"{where}: HTTP {response.status} but body lacks {target.body_contains!r}",
                response.status,
            )
    result = judge_latency(
        target.name, latency, target.latency_ms, f"{where}: HTTP {response.status}"
    )
    return CheckResult(result.name, result.healthy, latency, result.detail, response.status)


def judge_latency(name: str, latency: float, threshold_ms: int | None, summary: str) -> CheckResult:
    if threshold_ms is not None and latency > threshold_ms:
        return CheckResult(
            name, False, latency, f"{summary} but slow: {latency:.0f} ms > {threshold_ms} ms"
        )
    return CheckResult(name, True, latency, f"{summary} in {latency:.0f} ms")


def failed(name: str, started: float, detail: str) -> CheckResult:
    return CheckResult(name, False, elapsed_ms(started), detail)


def elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def origin(url: str) -> str:
    """scheme://host[:port] only: paths and queries may carry tokens and must not reach alerts."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
