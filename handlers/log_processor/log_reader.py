"""Stream an S3 log object as blocks of whole lines, gunzipping when the bytes say gzip.

Only one block (about BLOCK_BYTES of text) is held at a time, so object size is bounded by the
function's time, not its memory.
"""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Generator, Iterator
from typing import Any

from botocore.exceptions import ClientError
from log_sources import S3Object
from oncall_shared.aws import client
from oncall_shared.errors import BadEventError

BLOCK_BYTES = 1 << 20
MAX_LINE_CHARS = 1 << 20  # a "line" longer than this is cut rather than buffered without end
GZIP_MAGIC = b"\x1f\x8b"


class _PrefixedStream(io.RawIOBase):
    """Give back bytes already read (to sniff the format) before the rest of the body."""

    def __init__(self, prefix: bytes, body: Any) -> None:
        self._prefix = prefix
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            size = min(len(view), len(self._prefix))
            view[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)


# Without s3:ListBucket, S3 answers a missing key with 403 AccessDenied instead of 404 NoSuchKey.
_MAYBE_MISSING = frozenset({"NoSuchKey", "404", "AccessDenied", "403"})


def open_object(obj: S3Object) -> Any:
    """GetObject body for the decoded key; falls back to the raw key if the key was not encoded."""
    s3 = client("s3", obj.region)
    keys = [obj.key] if obj.key == obj.raw_key else [obj.key, obj.raw_key]
    for attempt, key in enumerate(keys, start=1):
        try:
            return s3.get_object(Bucket=obj.bucket, Key=key)["Body"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in _MAYBE_MISSING and attempt < len(keys):
                continue
            if code in ("NoSuchKey", "404"):
                raise BadEventError(
                    f"s3://{obj.bucket}/{obj.key} does not exist (deleted after the event?)"
                ) from None
            raise
    raise BadEventError(f"s3://{obj.bucket}/{obj.key}: no key to read")  # keys is never empty


def text_stream(body: Any) -> io.BufferedIOBase:
    head = body.read(len(GZIP_MAGIC))
    raw = io.BufferedReader(_PrefixedStream(head, body), buffer_size=BLOCK_BYTES)
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def iter_blocks(stream: Any, block_bytes: int = BLOCK_BYTES) -> Iterator[str]:
    """Yield text blocks that end on a line boundary (the final block may lack a newline)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    carry = ""
    while chunk := stream.read(block_bytes):
        text = carry + decoder.decode(chunk)
        cut = text.rfind("\n")
        if cut == -1 and len(text) < MAX_LINE_CHARS:
            carry = text
            continue
        if cut == -1:
            yield text
            carry = ""
            continue
        yield text[:cut]
        carry = text[cut + 1 :]
    rest = carry + decoder.decode(b"", final=True)
    if rest:
        yield rest


def object_blocks(obj: S3Object) -> Generator[str, None, None]:
    body = open_object(obj)
    try:
        yield from iter_blocks(text_stream(body))
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise BadEventError(f"s3://{obj.bucket}/{obj.key} is not readable gzip ({error})") from None
    finally:
        body.close()
