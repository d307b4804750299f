"""HTTP(S) and TCP probes on one asyncio event loop, connecting only to addresses the SSRF guard
approved.

A probe is a coroutine: a thousand of them share one thread, each holding one socket while it
waits, so a run costs about one request's CPU per target instead of a thread start, http.client's
parsing and GIL hand-offs per target (see docs/benchmarks.md, health checker).
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from health_http import HttpProtocolError, ResponseReader, request_head
from health_netguard import RefusedAddressError, literal_address, resolve_allowed
from health_targets import HttpTarget, TcpTarget

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 1_048_576  # body_contains looks at the first MiB; a health page is small
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "oncall-tools-health-checker/1"
# A request target with a space or a control character would split the request line.
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20\x7f]")


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


@dataclass
class ProbeNetwork:
    """What every probe of one run shares: the guard's setting, the DNS threads, one TLS context.

    Host names are resolved on ``resolver`` threads (getaddrinfo blocks); IP literals are judged
    on the loop at once. One TLS context serves the whole run: building one loads the CA bundle,
    milliseconds of CPU that a thousand https targets would otherwise pay each.
    """

    allow_private: bool
    resolver: Executor | None = None
    _tls: ssl.SSLContext | None = field(default=None, init=False, repr=False)

    def tls(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def resolve(self, host: str, port: int) -> str:
        """The guard's own ``resolve_allowed``, exactly as strict, off the loop for a name."""
        if literal_address(host) is not None:
            return resolve_allowed(host, port, self.allow_private)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.resolver, resolve_allowed, host, port, self.allow_private
        )


def check_tcp(target: TcpTarget, timeout: float, allow_private: bool) -> CheckResult:
    """One TCP check on its own event loop (the handler runs many on one: see health_runner)."""
    return asyncio.run(probe_tcp(target, timeout, ProbeNetwork(allow_private)))


def check_http(
    target: HttpTarget, timeout: float, allow_private: bool, headers: Mapping[str, str]
) -> CheckResult:
    """One HTTP(S) check on its own event loop (the handler runs many on one)."""
    return asyncio.run(probe_http(target, timeout, ProbeNetwork(allow_private), headers))


async def probe_tcp(target: TcpTarget, timeout: float, network: ProbeNetwork) -> CheckResult:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            address = await network.resolve(target.host, target.port)
            connected = await _connect(address, target.port)
        connected.close()
    except RefusedAddressError as error:
        return _failed(target.name, started, f"refused: {error}")
    except TimeoutError:
        return _failed(target.name, started, f"tcp connect to {target.host}:{target.port} "
                       f"failed: timed out after {timeout:g}s")  # fmt: skip
    except OSError as error:
        return _failed(
            target.name, started, f"tcp connect to {target.host}:{target.port} failed: {error}"
        )
    latency = _elapsed_ms(started)
    return _judge_latency(
        target.name, latency, target.latency_ms, f"tcp {target.host}:{target.port} open"
    )


async def probe_http(
    target: HttpTarget, timeout: float, network: ProbeNetwork, headers: Mapping[str, str]
) -> CheckResult:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            final_url, response = await _follow(target, network, headers)
    except RefusedAddressError as error:
        return _failed(target.name, started, f"refused: {error}")
    except TimeoutError:
        where = f"{target.method} {_origin(target.url)}"
        return _failed(target.name, started, f"{where} failed: timed out after {timeout:g}s")
    # ValueError: a server-chosen redirect can carry an invalid port or URL; that is the
    # target's failure, not a crash of the whole run.
    except (OSError, HttpProtocolError, ValueError) as error:
        return _failed(
            target.name, started, f"{target.method} {_origin(target.url)} failed: {error}"
        )
    return _judge_http(target, response, _elapsed_ms(started), final_url)


async def _follow(
    target: HttpTarget, network: ProbeNetwork, headers: Mapping[str, str]
) -> tuple[str, Response]:
    """Request the URL, following redirects by hand so that every hop passes the guard."""
    url, method, hop_headers = target.url, target.method, dict(headers)
    for _ in range(MAX_REDIRECTS + 1):
        response = await _request_once(url, method, hop_headers, network)
        if not (
            target.follow_redirects and response.status in _REDIRECT_CODES and response.location
        ):
            return url, response
        next_url = urljoin(url, response.location)
        if urlsplit(next_url).scheme not in ("http", "https"):
            raise HttpProtocolError(f"redirect to unsupported URL {_origin(next_url)!r}")
        if _origin(next_url) != _origin(url):
            # Secret headers (tokens) must not follow a redirect to another origin.
            hop_headers = {}
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method = "GET"
        url = next_url
    raise HttpProtocolError(f"more than {MAX_REDIRECTS} redirects from {_origin(target.url)}")


async def _request_once(
    url: str, method: str, headers: Mapping[str, str], network: ProbeNetwork
) -> Response:
    parts = urlsplit(url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if _UNSAFE_IN_TARGET.search(path):
        raise HttpProtocolError(f"URL path of {_origin(url)} holds a space or control character")
    head = request_head(
        method, path, host, port, tls=tls, headers={"User-Agent": _USER_AGENT, **headers}
    )
    address = await network.resolve(host, port)
    connected = await _connect(address, port)
    reader = ResponseReader(head, head_only=method == "HEAD", body_limit=MAX_BODY_BYTES)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(
        lambda: reader,
        sock=connected,
        ssl=network.tls() if tls else None,
        server_hostname=host if tls else None,
    )
    try:
        status, location, body = await reader.response
    finally:
        transport.abort()  # one request per connection; nothing to wait for
    return Response(status, location, body)


async def _connect(address: str, port: int) -> socket.socket:
    """A non-blocking socket connected to exactly ``address`` (the guard's choice)."""
    # AI_NUMERICHOST: only parses the literal (family, IPv6 scope), never asks DNS again.
    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
    )[0]
    connection = socket.socket(family, kind, proto)
    try:
        connection.setblocking(False)
        await asyncio.get_running_loop().sock_connect(connection, sockaddr)
    except BaseException:
        connection.close()
        raise
    return connection


def _judge_http(target: HttpTarget, response: Response, latency: float, url: str) -> CheckResult:
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
