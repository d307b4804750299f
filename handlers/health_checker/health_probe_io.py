"""The probes of one run as coroutines on one event loop, each holding one non-blocking socket.

A thousand probes share one thread: a run costs about one request's CPU per target instead of
a thread start, http.client's parsing and GIL hand-offs per target (docs/benchmarks.md).
Every connection goes to exactly the address the SSRF guard (health_netguard) approved.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from health_http import HttpProtocolError, ResponseReader, request_head
from health_netguard import RefusedAddressError, literal_address, resolve_allowed
from health_probes import (
    MAX_BODY_BYTES,
    MAX_REDIRECTS,
    CheckResult,
    Response,
    elapsed_ms,
    failed,
    judge_http,
    judge_latency,
    origin,
)
from health_targets import HttpTarget, Target, TcpTarget

# Host names are resolved on threads (getaddrinfo blocks); a few dozen keep a thousand lookups
# short without a thread per target. IP literals need none.
MAX_RESOLVER_THREADS = 32
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "oncall-tools-health-checker/1"
# A request target with a space or a control character would split the request line.
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20\x7f]")


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


@dataclass(frozen=True)
class ProbePlan:
    """One run: the targets, each one's timeout, how many at once, how long to wait in all."""

    targets: list[Target]
    timeouts: Mapping[str, float]
    headers: Mapping[str, Mapping[str, str]]
    allow_private: bool
    in_flight: int
    deadline_seconds: float


def run_probes(plan: ProbePlan, report: Callable[[CheckResult], None]) -> list[CheckResult]:
    """Every probe of ``plan`` on one new event loop; results in target order."""
    return asyncio.run(_probe_all(plan, report))


async def _probe_all(plan: ProbePlan, report: Callable[[CheckResult], None]) -> list[CheckResult]:
    slots = asyncio.Semaphore(plan.in_flight)
    resolver = ThreadPoolExecutor(max_workers=MAX_RESOLVER_THREADS, thread_name_prefix="dns")
    network = ProbeNetwork(plan.allow_private, resolver)
    tasks = {
        target.name: asyncio.ensure_future(_in_slot(slots, _probe(target, plan, network), report))
        for target in plan.targets
    }
    try:
        await asyncio.wait(tasks.values(), timeout=plan.deadline_seconds)
        return [_collect(name, task, plan.timeouts[name], report) for name, task in tasks.items()]
    finally:
        for task in tasks.values():
            task.cancel()
        # Do not block on a stuck DNS lookup: its probe is already judged.
        resolver.shutdown(wait=False, cancel_futures=True)


async def _in_slot(
    slots: asyncio.Semaphore,
    probe: Awaitable[CheckResult],
    report: Callable[[CheckResult], None],
) -> CheckResult:
    async with slots:
        result = await probe
    report(result)
    return result


def _probe(target: Target, plan: ProbePlan, network: ProbeNetwork) -> Awaitable[CheckResult]:
    timeout = plan.timeouts[target.name]
    if isinstance(target, TcpTarget):
        return probe_tcp(target, timeout, network)
    return probe_http(target, timeout, network, plan.headers.get(target.name, {}))


def _collect(
    name: str,
    task: asyncio.Future[CheckResult],
    timeout: float,
    report: Callable[[CheckResult], None],
) -> CheckResult:
    if not task.done():
        given_up = CheckResult(name, False, timeout * 1000.0, f"no answer within {timeout:g}s")
        report(given_up)
        return given_up
    # A probe converts network failures to results; anything raised here is a bug and must surface.
    return task.result()


async def probe_tcp(target: TcpTarget, timeout: float, network: ProbeNetwork) -> CheckResult:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            address = await network.resolve(target.host, target.port)
            connected = await _connect(address, target.port)
        connected.close()
    except RefusedAddressError as error:
        return failed(target.name, started, f"refused: {error}")
    except TimeoutError:
        return failed(target.name, started, f"tcp connect to {target.host}:{target.port} "
                       f"failed: timed out after {timeout:g}s")  # fmt: skip
    except OSError as error:
        return failed(
            target.name, started, f"tcp connect to {target.host}:{target.port} failed: {error}"
        )
    latency = elapsed_ms(started)
    return judge_latency(
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
        return failed(target.name, started, f"refused: {error}")
    except TimeoutError:
        where = f"{target.method} {origin(target.url)}"
        return failed(target.name, started, f"{where} failed: timed out after {timeout:g}s")
    # ValueError: a server-chosen redirect can carry an invalid port or URL; that is the
    # target's failure, not a crash of the whole run.
    except (OSError, HttpProtocolError, ValueError) as error:
        return failed(target.name, started, f"{target.method} {origin(target.url)} failed: {error}")
    return judge_http(target, response, elapsed_ms(started), final_url)


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
            raise HttpProtocolError(f"redirect to unsupported URL {origin(next_url)!r}")
        if origin(next_url) != origin(url):
            # Secret headers (tokens) must not follow a redirect to another origin.
            hop_headers = {}
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method = "GET"
        url = next_url
    raise HttpProtocolError(f"more than {MAX_REDIRECTS} redirects from {origin(target.url)}")


async def _request_once(
    url: str, method: str, headers: Mapping[str, str], network: ProbeNetwork
) -> Response:
    parts = urlsplit(url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if _UNSAFE_IN_TARGET.search(path):
        raise HttpProtocolError(f"URL path of {origin(url)} holds a space or control character")
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
