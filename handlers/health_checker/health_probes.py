"""HTTP(S) and TCP probes that connect only to addresses the SSRF guard approved."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from health_netguard import RefusedAddressError, resolve_allowed
from health_targets import HttpTarget, TcpTarget

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 1_048_576  # body_contains looks at the first MiB; a health page is small
_READ_CHUNK = 65_536
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "oncall-tools-health-checker/1"


@dataclass(frozen=True)
class CheckResult:
    name: str
    healthy: bool
    latency_ms: float
    detail: str
    status_code: int | None = None


@dataclass(frozen=True)
class _Response:
    status: int
    location: str | None
    body: bytes


class SharedTlsContext:
    """One TLS context for every https probe of a run, built on the first one that needs it.

    ``ssl.create_default_context()`` loads the CA bundle: about 20 ms of CPU (measured here),
    which a thousand https targets would pay a thousand times under one GIL. A context is safe
    to share between threads; a new run builds a new one (and so sees a changed CA bundle).
    """

    def __init__(self) -> None:
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def __call__(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                self._context = ssl.create_default_context()
            return self._context


class _Deadline:
    """The per-check time budget: every socket operation gets only what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self._ends - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"check exceeded its {self.seconds:g}s timeout")
        return left


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to a pre-approved IP while Host/SNI/certificate checks use the URL's host name."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._tls = tls
        # The Host header leaves out the scheme's own port; inheriting HTTP's 80 would send
        # "Host: name:443" to https targets, which hosts matched by exact name answer with 404.
        self.default_port = http.client.HTTPS_PORT if tls is not None else http.client.HTTP_PORT

    def connect(self) -> None:
        sock = _connect(self._address, self.port, self.timeout)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def _connect(address: str, port: int, timeout: float | None) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def check_tcp(target: TcpTarget, timeout: float, allow_private: bool) -> CheckResult:
    started = time.monotonic()
    try:
        address = resolve_allowed(target.host, target.port, allow_private)
        with _connect(address, target.port, timeout):
            pass
    except RefusedAddressError as error:
        return _failed(target.name, started, f"refused: {error}")
    except OSError as error:
        return _failed(
            target.name, started, f"tcp connect to {target.host}:{target.port} failed: {error}"
        )
    latency = _elapsed_ms(started)
    return _judge_latency(
        target.name, latency, target.latency_ms, f"tcp {target.host}:{target.port} open"
    )


def check_http(
    target: HttpTarget,
    timeout: float,
    allow_private: bool,
    headers: Mapping[str, str],
    tls: Callable[[], ssl.SSLContext] = ssl.create_default_context,
) -> CheckResult:
    """One check; ``tls`` gives the context for https (a run passes one SharedTlsContext)."""
    started = time.monotonic()
    deadline = _Deadline(timeout)
    try:
        final_url, response = _follow(target, deadline, allow_private, headers, tls)
    except RefusedAddressError as error:
        return _failed(target.name, started, f"refused: {error}")
    # ValueError: a server-chosen redirect can carry an invalid port or URL; that is the
    # target's failure, not a crash of the whole run.
    except (OSError, http.client.HTTPException, ValueError) as error:
        return _failed(
            target.name, started, f"{target.method} {_origin(target.url)} failed: {error}"
        )
    return _judge_http(target, response, _elapsed_ms(started), final_url)


def _follow(
    target: HttpTarget,
    deadline: _Deadline,
    allow_private: bool,
    headers: Mapping[str, str],
    tls: Callable[[], ssl.SSLContext],
) -> tuple[str, _Response]:
    """Request the URL, following redirects by hand so that every hop passes the guard."""
    url, method, hop_headers = target.url, target.method, dict(headers)
    for _ in range(MAX_REDIRECTS + 1):
        response = _request_once(url, method, hop_headers, deadline, allow_private, tls)
        if not (
            target.follow_redirects and response.status in _REDIRECT_CODES and response.location
        ):
            return url, response
        next_url = urljoin(url, response.location)
        if urlsplit(next_url).scheme not in ("http", "https"):
            raise http.client.HTTPException(f"redirect to unsupported URL {_origin(next_url)!r}")
        if _origin(next_url) != _origin(url):
            # Secret headers (tokens) must not follow a redirect to another origin.
            hop_headers = {}
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method = "GET"
        url = next_url
    raise http.client.HTTPException(
        f"more than {MAX_REDIRECTS} redirects from {_origin(target.url)}"
    )


def _request_once(  # noqa: PLR0917 - one hop's whole context, passed down once
    url: str,
    method: str,
    headers: Mapping[str, str],
    deadline: _Deadline,
    allow_private: bool,
    tls: Callable[[], ssl.SSLContext],
) -> _Response:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve_allowed(host, port, allow_private)
    context = tls() if parts.scheme == "https" else None
    connection = _PinnedConnection(host, port, address, deadline.remaining(), context)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = {"User-Agent": _USER_AGENT, **headers}
        body = b"" if method == "POST" else None
        connection.request(method, path, body=body, headers=request_headers)
        raw = connection.getresponse()
        payload = b"" if method == "HEAD" else _read_body(raw, connection, deadline)
        return _Response(raw.status, raw.getheader("Location"), payload)
    finally:
        connection.close()


def _read_body(
    raw: http.client.HTTPResponse, connection: _PinnedConnection, deadline: _Deadline
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY_BYTES:
        if connection.sock is not None:
            # A server that drips bytes would otherwise reset the socket timeout on every read.
            connection.sock.settimeout(deadline.remaining())
        chunk = raw.read(min(_READ_CHUNK, MAX_BODY_BYTES - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _judge_http(target: HttpTarget, response: _Response, latency: float, url: str) -> CheckResult:
    where = f"{target.method} {_origin(url)}"
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
    result = _judge_latency(
        target.name, latency, target.latency_ms, f"{where}: HTTP {response.status}"
    )
    return CheckResult(result.name, result.healthy, latency, result.detail, response.status)


def _judge_latency(
    name: str, latency: float, threshold_ms: int | None, summary: str
) -> CheckResult:
    if threshold_ms is not None and latency > threshold_ms:
        return CheckResult(
            name, False, latency, f"{summary} but slow: {latency:.0f} ms > {threshold_ms} ms"
        )
    return CheckResult(name, True, latency, f"{summary} in {latency:.0f} ms")


def _failed(name: str, started: float, detail: str) -> CheckResult:
    return CheckResult(name, False, _elapsed_ms(started), detail)


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def _origin(url: str) -> str:
    """scheme://host[:port] only: paths and queries may carry tokens and must not reach alerts."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
