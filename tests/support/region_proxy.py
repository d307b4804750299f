"""A real HTTP proxy on 127.0.0.1 in front of localcloud that fails chosen requests for real.

Localcloud serves every region at one endpoint; this proxy reads the region and operation each
request is signed for (SigV4's credential scope, X-Amz-Target) and, when RULE says so, answers
with an AWS error, closes the connection without an answer, or never answers. Everything else
is forwarded unchanged.
"""

from __future__ import annotations

import http.client
import http.server
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

FORWARD, DENY, CLOSE, SILENT = "forward", "deny", "close", "silent"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Request:
    region: str
    service: str
    operation: str  # X-Amz-Target's operation, or "METHOD /path" for REST services (S3)
    method: str

    @property
    def is_write(self) -> bool:
        if "." in self.operation:  # a JSON protocol: the operation name says it
            name = self.operation.rsplit(".", 1)[1]
            return not name.startswith(("Describe", "List", "Search", "Get", "Scan"))
        return self.method not in ("GET", "HEAD")


Rule = Callable[[Request], str]


@contextmanager
def region_proxy(upstream: str, rule: Rule) -> Iterator[str]:
    """Serve the proxy while inside; yields its endpoint URL."""
    stop = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, rule, stop))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def _handler(upstream: str, rule: Rule, stop: threading.Event) -> type:
    target = urllib.parse.urlsplit(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read the CLI's output, not the proxy's."""

        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            action = rule(self._request())
            if action == SILENT:
                stop.wait()
                self.close_connection = True
            elif action == CLOSE:
                self.close_connection = True
            elif action == DENY:
                self._deny()
            else:
                self._forward(body)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        def _request(self) -> Request:
            scope = _SCOPE.search(self.headers.get("Authorization", ""))
            region, service = scope.groups() if scope else ("", "")
            operation = self.headers.get("X-Amz-Target") or f"{self.command} {self.path}"
            return Request(region, service, operation, self.command)

        def _deny(self) -> None:
            body = json.dumps(
                {"__type": "AccessDeniedException", "message": "denied by the test proxy"}
            ).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self, body: bytes) -> None:
            connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=60)
            try:
                connection.request(self.command, self.path, body, dict(self.headers))
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    return Handler
