"""HTTP delivery that can only ever reach this machine.

The project's rule: nothing localcloud does may even try another address. So an endpoint's host
must be a loopback IP literal (127.0.0.0/8, ::1) or `localhost` (mapped here, never resolved:
a DNS query would itself leave the machine). Anything else is refused before any socket exists.
"""

from __future__ import annotations

import http.client
import ipaddress
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import LocalCloudError

TIMEOUT_SECONDS = 15.0  # SNS waits about 15 s for an HTTP endpoint's answer


class NonLoopbackEndpoint(LocalCloudError):
    """An endpoint outside 127.0.0.0/8 and ::1: localcloud never connects to it."""


_guarded = False


def guard_requests(on_refusal: Callable[[str, str], None]) -> None:
    """Make every `requests` call in this process (moto's Firehose HTTP destinations, API
    destinations, API Gateway integrations...) refuse a non-loopback URL before connecting.

    Nothing else in the project uses requests: the handlers run in their own processes."""
    global _guarded  # noqa: PLW0603 - patched once per process
    if _guarded:
        return
    from requests.adapters import HTTPAdapter
    from requests.exceptions import ConnectionError as RequestsConnectionError

    original_send = HTTPAdapter.send

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            loopback_address(str(request.url))
        except NonLoopbackEndpoint as refused:
            on_refusal(str(request.url), str(refused))
            # A connection error: what callers of requests already handle.
            raise RequestsConnectionError(str(refused), request=request) from None
        return original_send(self, request, *args, **kwargs)

    setattr(HTTPAdapter, "send", send)  # noqa: B010
    _guarded = True


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


def loopback_address(url: str) -> str:
    """The loopback IP that URL names, or NonLoopbackEndpoint (without resolving any name)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise NonLoopbackEndpoint(f"endpoint {url!r} is not an http(s) URL")
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise NonLoopbackEndpoint(
            f"endpoint {url!r} names host {host!r}: localcloud delivers only to loopback"
            " addresses (127.0.0.0/8, ::1) and never resolves names"
        ) from None
    if not address.is_loopback:
        raise NonLoopbackEndpoint(
            f"endpoint {url!r} is not a loopback address (127.0.0.0/8, ::1): not contacted"
        )
    return str(address)


def _loopback_tls() -> ssl.SSLContext:
    # AWS insists on a CA-signed certificate; a test endpoint on this machine has a self-signed
    # one, and the connection cannot leave the machine anyway, so it is not verified.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def post(url: str, body: bytes, headers: dict[str, str]) -> HttpAnswer:
    """POST BODY to a loopback URL (checked first); raises OSError when it cannot connect."""
    address = loopback_address(url)
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            address, parts.port, timeout=TIMEOUT_SECONDS, context=_loopback_tls()
        )
    else:
        connection = http.client.HTTPConnection(address, parts.port, timeout=TIMEOUT_SECONDS)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    try:
        connection.request("POST", target, body=body, headers={"Host": parts.netloc, **headers})
        response = connection.getresponse()
        return HttpAnswer(response.status, response.read())
    finally:
        connection.close()
