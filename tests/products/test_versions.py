"""Versions are semantic, recorded with a content hash, and never reused for new content."""

from __future__ import annotations

from pathlib import Path

import pytest

from products.errors import VersionError
from products.versions import (
    VersionRecord,
    bump,
    check_version,
    next_version,
    read_version_records,
    write_version_records,
)


@pytest.mark.parametrize(
    ("part", "expected"), [("patch", "1.4.3"), ("minor", "1.5.0"), ("major", "2.0.0")]
)
def test_next_version(part: str, expected: str) -> None:
    assert next_version("1.4.2", part) == expected  # type: ignore[arg-type]


def test_changed_content_under_old_version_is_refused_with_the_fix() -> None:
    records = {"log-processor": VersionRecord("1.2.0", "a" * 64, {"1.2.0": "a" * 64})}
    with pytest.raises(VersionError) as raised:
        check_version("log-processor", "b" * 64, records)
    message = str(raised.value)
    assert "log-processor: content changed" in message
    assert "version 1.2.0" in message
    assert "python build.py bump log-processor --patch" in message


def test_unknown_product_says_how_to_start() -> None:
    with pytest.raises(VersionError, match=r"run `python build.py bump new-tool`"):
        check_version("new-tool", "c" * 64, {})


def test_bump_records_history_and_refuses_no_change(tmp_path: Path) -> None:
    first = bump("tool", "a" * 64, "patch", {})
    assert first.version == "1.0.0"
    second = bump("tool", "b" * 64, "minor", {"tool": first})
    assert second.version == "1.1.0"
    assert second.history == {"1.0.0": "a" * 64, "1.1.0": "b" * 64}
    with pytest.raises(VersionError, match=r"unchanged since 1\.1\.0"):
        bump("tool", "b" * 64, "patch", {"tool": second})
    path = tmp_path / "versions.json"
    write_version_records({"tool": second}, path)
    assert read_version_records(path) == {"tool": second}


def test_bad_version_in_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "versions.json"
    path.write_text('{"tool": {"version": "1.0", "content_hash": "x", "history": {}}}')
    with pytest.raises(VersionError, match=r"versions\.json: tool\.version: '1\.0' is not"):
        read_version_records(path)
