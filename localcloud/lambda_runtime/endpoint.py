"""Where workers reach localcloud, and the trace header of the request a thread is serving.

The endpoint is learnt from the requests the server answers (the address it listens on), so a
function's SDK calls come back to the same local cloud over loopback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

_state = threading.local()
_endpoint = {"url": "http://127.0.0.1:4566"}

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def endpoint_url() -> str:
    return _endpoint["url"]


def set_endpoint_url(url: str) -> None:
    _endpoint["url"] = url


def current_trace_header() -> str | None:
    """The X-Amzn-Trace-Id of the HTTP request this thread is serving, if any.

    A function's SDK calls carry it (botocore adds it when AWS_LAMBDA_FUNCTION_NAME and
    _X_AMZN_TRACE_ID are set, as in our workers), so a delivering service can pass it on to
    `invoke_async` for recursive-loop detection.
    """
    header = getattr(_state, "trace_header", None)
    return str(header) if header else None


def _loopback_host(name: str) -> str:
    if name in ("", "0.0.0.0"):  # noqa: S104 - a wildcard listener is reached over loopback
        return "127.0.0.1"
    if name == "::":
        return "[::1]"
    return f"[{name}]" if ":" in name else name


def with_request_context(app: WsgiApp) -> WsgiApp:
    """Wrap the server's WSGI app: remember the endpoint and the request's trace header."""

    def serve(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = _loopback_host(str(environ.get("SERVER_NAME", "")))
        set_endpoint_url(f"http://{host}:{environ.get('SERVER_PORT', '')}")
        _state.trace_header = environ.get("HTTP_X_AMZN_TRACE_ID")
        try:
            return app(environ, start_response)
        finally:
            _state.trace_header = None

    return serve
