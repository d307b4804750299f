"""HTTP/1.1 on the wire for the probes: the request head, and a protocol that reads one response.

One request per connection (``Connection: close``): a response ends at its Content-Length, at the
end of its chunked body, or when the server closes; only the first ``body_limit`` bytes of a body
are kept and the connection is closed there. Interim 1xx answers (100 Continue, 103 Early Hints)
are skipped, as http.client does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

MAX_HEAD_BYTES = 65_536  # status line and headers; http.client refuses lines past 64 KiB too
_NO_BODY_STATUSES = frozenset({101, 204, 304})


class HttpProtocolError(Exception):
    """The server's answer is not HTTP/1.x we can read (bad status line, chunk, early close)."""


def request_head(
    method: str, path: str, host: str, port: int, *, tls: bool, headers: Mapping[str, str]
) -> bytes:
    """The request line and headers; Host names the port only when it is not the scheme's own.

    Header values are Latin-1 as on the wire (a value that is not raises UnicodeEncodeError, a
    ValueError, as http.client does); names and values were checked for CR/LF when loaded.
    """
    given = {name.lower() for name in headers}
    lines = [f"{method} {path} HTTP/1.1"]
    if "host" not in given:
        lines.append(f"Host: {_host_header(host, port, tls)}")
    if "accept-encoding" not in given:
        lines.append("Accept-Encoding: identity")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if method == "POST" and "content-length" not in given:
        lines.append("Content-Length: 0")  # an empty body, as the target schema documents
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _host_header(host: str, port: int, tls: bool) -> str:
    try:
        name = host.encode("ascii").decode("ascii")
    except UnicodeEncodeError:
        name = host.encode("idna").decode("ascii")
    if ":" in name:
        name = f"[{name}]"  # an IPv6 literal
    return name if port == (443 if tls else 80) else f"{name}:{port}"


class ResponseReader(asyncio.Protocol):
    """Writes ``request`` once connected; ``response`` resolves to (status, Location, body)."""

    def __init__(self, request: bytes, *, head_only: bool, body_limit: int) -> None:
        self.response: asyncio.Future[tuple[int, str | None, bytes]] = (
            asyncio.get_running_loop().create_future()
        )
        self._request = request
        self._head_only = head_only
        self._limit = body_limit
        self._buffer = bytearray()
        self._body = bytearray()
        self._status = 0
        self._location: str | None = None
        self._framing = ""  # "length", "chunked" or "eof" once the head is read
        self._left = 0  # body bytes still expected ("length"), or of the current chunk

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self.response.done():
            return
        self._buffer += data
        try:
            self._advance()
        except HttpProtocolError as error:
            self.response.set_exception(error)

    def eof_received(self) -> bool | None:
        if not self.response.done():
            if self._framing == "eof":
                self._finish()
            else:
                self.response.set_exception(self._early_close())
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.response.done():
            self.response.set_exception(exc if exc is not None else self._early_close())

    def _early_close(self) -> HttpProtocolError:
        if not self._framing:
            return HttpProtocolError("remote end closed the connection without a response")
        return HttpProtocolError(f"connection closed within the body of an HTTP {self._status}")

    def _advance(self) -> None:
        while not self._framing:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    raise HttpProtocolError(f"response head longer than {MAX_HEAD_BYTES} bytes")
                return
            head = bytes(self._buffer[:end])
            del self._buffer[: end + 4]
            self._read_head(head)
        if self._framing == "chunked":
            self._read_chunks()
        else:
            self._take(len(self._buffer))

    def _read_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        status = _status_of(lines[0])
        if 100 <= status < 200 and status != 101:
            return  # an interim answer: the real one follows
        self._status = status
        fields = _fields_of(lines[1:])
        self._location = fields.get("location")
        if self._head_only or status in _NO_BODY_STATUSES:
            self._framing = "none"
            self._finish()
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            self._framing = "chunked"
        elif fields.get("content-length", "").strip().isdigit():
            self._framing, self._left = "length", int(fields["content-length"])
            self._take(0)
        else:
            self._framing = "eof"

    def _take(self, count: int) -> None:
        """Move ``count`` buffered bytes to the body, finishing at the length or the limit."""
        if self.response.done():
            return
        if self._framing == "length":
            count = min(count, self._left)
            self._left -= count
        self._body += self._buffer[:count]
        del self._buffer[:count]
        if len(self._body) >= self._limit or (self._framing == "length" and self._left == 0):
            self._finish()

    def _read_chunks(self) -> None:
        while not self.response.done():
            if self._left == 0:
                if not self._next_chunk():
                    return
                continue
            data = min(len(self._buffer), self._left - 2)  # the chunk's data, then its CRLF
            if data > 0:
                self._body += self._buffer[:data]
                del self._buffer[:data]
                self._left -= data
                if len(self._body) >= self._limit:
                    self._finish()
                    return
            if self._left > 2 or len(self._buffer) < 2:
                return
            del self._buffer[:2]
            self._left = 0

    def _next_chunk(self) -> bool:
        """Read a chunk-size line; False when more bytes are needed. Size 0 ends the body."""
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise HttpProtocolError("chunk size line too long")
            return False
        size_text = bytes(self._buffer[:end]).split(b";", 1)[0].strip()
        del self._buffer[: end + 2]
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpProtocolError(f"invalid chunk size {size_text[:20]!r}") from None
        if size <= 0:
            self._finish()  # trailers, if any, are not needed: the connection is closed
            return True
        self._left = size + 2
        return True

    def _finish(self) -> None:
        if not self.response.done():
            body = bytes(self._body[: self._limit])
            self.response.set_result((self._status, self._location, body))


def _status_of(line: bytes) -> int:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise HttpProtocolError(f"invalid status line {line[:80]!r}")
    status = int(parts[1])
    if not 100 <= status <= 999:
        raise HttpProtocolError(f"invalid status code {status}")
    return status


def _fields_of(lines: list[bytes]) -> dict[str, str]:
    """The header fields the probe reads (Location, framing), lower-cased names, Latin-1 values."""
    fields: dict[str, str] = {}
    for line in lines:
        name, separator, value = line.partition(b":")
        if separator:
            fields[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return fields
