"""The suite's network guard: a test fails if anything in this process even tries to reach an
address other than loopback (127.0.0.0/8, ::1), or to resolve a name other than localhost.

The project's rule is that tests connect only to loopback; a refused-address test proves its
refusal only if nothing left the machine. So socket.socket.connect/connect_ex/sendto,
socket.create_connection and socket.getaddrinfo are wrapped for the whole session (every thread:
the wrappers sit on the socket class and module, not on one test's objects). A forbidden attempt
is refused before any packet, with an OSError (ENETUNREACH, as on a machine without a network),
and recorded; the autouse fixture fails the test that was running, even when the attempt came
from a thread or the code under test swallowed the error.

Out of reach: subprocesses (a packaged handler run with `python -S`, the pipeline's clean
checkout, the Lambda runner's children) start their own interpreter without these wrappers.
Names under .invalid get an immediate "no such name" (RFC 6761 asks resolvers to answer them so,
without a query); IP literals are only parsed by getaddrinfo, so they pass it.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_INET_FAMILIES = (socket.AF_INET, socket.AF_INET6)


@dataclass(frozen=True)
class Attempt:
    how: str  # "connect", "sendto", "create_connection", "getaddrinfo"
    target: str
    thread: str

    def describe(self) -> str:
        return f"{self.how} {self.target} (thread {self.thread!r})"


class NetworkGuardError(OSError):
    """A test tried to reach beyond loopback; raised instead of sending anything."""


ATTEMPTS: list[Attempt] = []


def is_loopback_host(host: Any) -> bool:
    """Whether ``host`` (an IP literal or a name) stays on this machine."""
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def is_ip_literal(host: Any) -> bool:
    try:
        ipaddress.ip_address(str(host).strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def refuse(how: str, target: str) -> None:
    attempt = Attempt(how, target, threading.current_thread().name)
    ATTEMPTS.append(attempt)  # list.append is atomic: safe from any thread
    raise NetworkGuardError(
        errno.ENETUNREACH, f"network guard: {attempt.describe()}: tests reach only loopback"
    )


def _check_socket_address(sock: socket.socket, address: Any, how: str) -> None:
    if sock.family not in _INET_FAMILIES or not isinstance(address, tuple):
        return  # Unix sockets, netlink and the like never leave the machine
    if not is_loopback_host(address[0]):
        refuse(how, f"{address[0]}:{address[1] if len(address) > 1 else '?'}")


def _guard_socket_class(real: dict[str, Callable[..., Any]]) -> None:
    def connect(self: socket.socket, address: Any) -> None:
        _check_socket_address(self, address, "connect")
        return real["connect"](self, address)  # type: ignore[no-any-return]

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_socket_address(self, address, "connect")
        return real["connect_ex"](self, address)  # type: ignore[no-any-return]

    def sendto(self: socket.socket, data: Any, *rest: Any) -> int:
        _check_socket_address(self, rest[-1] if rest else None, "sendto")
        return real["sendto"](self, data, *rest)  # type: ignore[no-any-return]

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign, assignment]


def _guard_socket_module(real: dict[str, Callable[..., Any]]) -> None:
    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        # A name is left to getaddrinfo below (a test may answer it); a literal is judged here.
        host = address[0]
        if is_ip_literal(host) and not is_loopback_host(host):
            refuse("create_connection", f"{host}:{address[1]}")
        return real["create_connection"](address, *args, **kwargs)  # type: ignore[no-any-return]

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode("idna")
        if host and not is_ip_literal(host) and not is_loopback_host(host):
            if str(host).lower().rstrip(".").endswith(".invalid"):
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            refuse("getaddrinfo", str(host))
        return real["getaddrinfo"](host, *args, **kwargs)

    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo


def install_network_guard() -> None:
    """Wrap the socket entry points once per process (a second call changes nothing)."""
    if getattr(socket, "_oncall_network_guard", False):
        return
    real = {
        "connect": socket.socket.connect,
        "connect_ex": socket.socket.connect_ex,
        "sendto": socket.socket.sendto,
        "create_connection": socket.create_connection,
        "getaddrinfo": socket.getaddrinfo,
    }
    _guard_socket_class(real)
    _guard_socket_module(real)
    socket._oncall_network_guard = True  # type: ignore[attr-defined]


install_network_guard()
# botocore asks the instance metadata service (169.254.169.254) for credentials and a region
# when nothing else gives them: never from a test. Lambda functions localcloud runs get the same.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(autouse=True)
def _network_guard() -> Iterator[list[Attempt]]:
    """Fails the test during which anything tried to go beyond loopback."""
    ATTEMPTS.clear()
    yield ATTEMPTS
    if ATTEMPTS:
        attempts = "; ".join(attempt.describe() for attempt in ATTEMPTS)
        ATTEMPTS.clear()
        pytest.fail(f"network guard: this test tried to reach beyond loopback: {attempts}")
