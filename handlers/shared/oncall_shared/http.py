"""JSON-over-HTTP POST with timeouts, bounded retries, backoff with jitter and Retry-After."""

from __future__ import annotations

import email.utils
import functools
import http.client
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit

from oncall_shared.errors import DeliveryError

MAX_RETRY_AFTER_SECONDS = 20.0  # a webhook asking for longer would eat the Lambda timeout
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
MAX_RESPONSE_BYTES = 65_536

Sleeper = Callable[[float], None]
# Tests replace this to run retry paths without waiting; read at call time on purpose.
DEFAULT_SLEEP: Sleeper = time.sleep


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected webhook POST would be replayed as GET by urllib; treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    # Built on the first send, not at import: its HTTPS handler loads the CA certificates (about
    # 30-80 ms CPU on Python 3.13), which a cold start that sends nothing would pay for nothing.
    return urllib.request.build_opener(_NoRedirect())


def describe_url(url: str) -> str:
    """scheme://host[:port] only: webhook paths, queries and user:password carry secrets and
    must not be logged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(not a URL)"
    host = parts.hostname or ""
    shown_host = f"[{host}]" if ":" in host else host
    port = url_port_text(parts.netloc)
    return f"{parts.scheme}://{shown_host}{':' + port if port else ''}"


def url_port_text(netloc: str) -> str:
    """The port of NETLOC as written ("" when none), never the user:password before the host."""
    host_port = netloc.rpartition("@")[2]
    after_host = host_port.rpartition("]")[2] if host_port.startswith("[") else host_port
    _, colon, port = after_host.rpartition(":")
    # An invalid port is shown as written, cut short: it is part of the address, not a secret.
    return port[:8] if colon else ""


def url_problem(url: str) -> str | None:
    """Why URL cannot be POSTed to as given (None when it can): checked before any request, so
    that urllib's own errors, which quote the whole URL, never happen."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "its [IPv6] host is malformed"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"scheme {parts.scheme!r} is not http(s), or the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "it carries user:password"
    if url_port_text(parts.netloc) and _port(parts) is None:
        return "its port is not a number 1-65535"
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return "it contains spaces or control characters"
    return None


def backoff_delay(attempt: int) -> float:
    """Full-jitter exponential backoff for retry number ``attempt`` (1-based)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** (attempt - 1)))
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float | None:
    """Parse Retry-After (delta-seconds or HTTP-date), capped; None when absent or unparseable."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = now or datetime.now(UTC)
    return min(max((when - current).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


def send_json(
    url: str,
    payload: Any,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    max_attempts: int = 4,
    sleep: Sleeper | None = None,
) -> tuple[int, str]:
    """POST ``payload`` as JSON; return (status, body) of the first 2xx answer.

    429 waits for Retry-After (or backoff); 5xx, timeouts and connection errors back off and
    retry; any other status raises DeliveryError at once (retrying a 400 cannot succeed).
    """
    _check_url(url)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    request_headers = {"Content-Type": "application/json", **(headers or {})}
    do_sleep = sleep or DEFAULT_SLEEP
    last_problem = "no attempt made"
    for attempt in range(1, max_attempts + 1):
        status, text, wait, last_problem = _attempt(url, body, request_headers, timeout)
        if status is not None and 200 <= status < 300:
            return status, text
        if attempt < max_attempts:
            do_sleep(wait if wait is not None else backoff_delay(attempt))
    raise DeliveryError(
        f"POST to {describe_url(url)} failed after {max_attempts} attempts: {last_problem}",
        retryable=True,
    )


def _port(parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return None
    return port if port is not None and 1 <= port <= 65_535 else None


def _check_url(url: str) -> None:
    problem = url_problem(url)
    if problem is not None:
        raise DeliveryError(f"cannot POST to {describe_url(url)!r}: {problem}", retryable=False)


def _attempt(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> tuple[int | None, str, float | None, str]:
    """One POST. Returns (status or None, body, Retry-After wait or None, problem description)."""
    # Scheme already limited to http(s) by _check_url, so no file:// or custom handlers.
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310
    try:
        with _opener().open(request, timeout=timeout) as response:
            return response.status, _read_text(response), None, ""
    except urllib.error.HTTPError as error:
        return _classify_http_error(url, error)
    except http.client.HTTPException as error:
        # A garbled or cut-off answer (BadStatusLine, IncompleteRead): retried like a dropped
        # connection, and a DeliveryError in the end, so the other channels still go out.
        return None, "", None, f"bad HTTP answer ({error!r})"
    except TimeoutError as error:
        return None, "", None, f"timed out after {timeout}s ({error})"
    except urllib.error.URLError as error:
        return None, "", None, f"connection failed ({error.reason})"
    except OSError as error:
        return None, "", None, f"connection failed ({error})"


def _classify_http_error(
    url: str, error: urllib.error.HTTPError
) -> tuple[int | None, str, float | None, str]:
    text = _read_text(error)
    problem = f"HTTP {error.code}: {text[:300]}"
    if error.code == 429:
        return error.code, text, retry_after_seconds(error.headers.get("Retry-After")), problem
    if error.code >= 500:
        return error.code, text, None, problem
    raise DeliveryError(
        f"POST to {describe_url(url)} rejected with HTTP {error.code} (not retried): {text[:300]}",
        status=error.code,
        retryable=False,
    )


def _read_text(response: Any) -> str:
    try:
        raw = response.read(MAX_RESPONSE_BYTES)
    except (TimeoutError, OSError):
        return ""
    return raw.decode("utf-8", errors="replace") if raw else ""
