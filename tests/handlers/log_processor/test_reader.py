"""log_reader: streamed blocks end on line boundaries, gzip is sniffed, UTF-8 split safely."""

from __future__ import annotations

import gzip
import io

import pytest
from log_reader import iter_blocks, text_stream


class Body(io.BytesIO):
    """Stands in for botocore's StreamingBody: read(n) and close()."""


def _lines_of(blocks: list[str]) -> list[str]:
    return "\n".join(blocks).split("\n")


@pytest.mark.parametrize("block_bytes", [1, 7, 64, 4096])
def test_blocks_reassemble_to_the_same_lines(block_bytes):
    text = "".join(f"línea {i} ø ünïcödé {'x' * (i % 13)}\n" for i in range(300))
    blocks = list(iter_blocks(io.BytesIO(text.encode("utf-8")), block_bytes))
    assert all(not block.endswith("\n") for block in blocks)
    assert _lines_of(blocks) == text.rstrip("\n").split("\n")


def test_gzip_is_detected_by_magic_bytes_not_name():
    text = "a\nb\nERROR c\n" * 1000
    blocks = list(iter_blocks(text_stream(Body(gzip.compress(text.encode()))), 1000))
    assert _lines_of(blocks) == text.rstrip("\n").split("\n")


def test_plain_text_passes_through_including_the_sniffed_bytes():
    blocks = list(iter_blocks(text_stream(Body(b"hi\nthere")), 3))
    assert blocks == ["hi", "there"]


def test_empty_object_yields_nothing():
    assert list(iter_blocks(text_stream(Body(b"")))) == []


def test_invalid_utf8_is_replaced_not_fatal():
    blocks = list(iter_blocks(io.BytesIO(b"ok\n\xff\xfe bad\n"), 4))
    assert blocks == ["ok", "\ufffd\ufffd bad"]
