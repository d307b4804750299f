"""products/versions.json as a file: missing, broken, and written in a stable, reviewable form.

These close gaps a mutation run found (docs/testing.md): nothing read a missing or invalid file,
and nothing looked at the bytes written or at the full refusal messages.
"""

from __future__ import annotations

import json
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

OLD, NEW = "0123456789abcdef" * 4, "fedcba9876543210" * 4


def test_a_missing_file_means_no_product_has_a_version_yet(tmp_path: Path) -> None:
    assert read_version_records(tmp_path / "versions.json") == {}


def test_an_invalid_file_is_refused_naming_the_file_the_problem_and_the_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "versions.json"
    path.write_text('{\n  "tool": {"version": "1.0.0",,}\n}\n', encoding="utf-8")
    with pytest.raises(VersionError) as raised:
        read_version_records(path)
    assert (
        str(raised.value) == f"{path}: not valid JSON (Expecting property name enclosed in "
        "double quotes at line 2)"
    )


def test_a_file_with_non_ascii_text_is_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "versions.json"
    record = {"version": "1.0.0", "content_hash": "é" * 4, "history": {"1.0.0": "é" * 4}}
    path.write_bytes(json.dumps({"tool": record}, ensure_ascii=False).encode("utf-8"))
    assert read_version_records(path) == {
        "tool": VersionRecord("1.0.0", "é" * 4, record["history"])
    }


def test_records_are_written_sorted_with_history_in_version_order(tmp_path: Path) -> None:
    path = tmp_path / "versions.json"
    history = {"1.10.0": NEW, "1.9.0": OLD, "1.0.0": OLD}  # text order would put 1.10 first
    records = {
        "zeta": VersionRecord("1.10.0", NEW, history),
        "alpha": VersionRecord("1.0.0", OLD, {"1.0.0": OLD}),
    }
    write_version_records(records, path)
    expected = {
        "alpha": {"version": "1.0.0", "content_hash": OLD, "history": {"1.0.0": OLD}},
        "zeta": {
            "version": "1.10.0",
            "content_hash": NEW,
            "history": {"1.0.0": OLD, "1.9.0": OLD, "1.10.0": NEW},
        },
    }
    assert path.read_bytes() == (json.dumps(expected, indent=2) + "\n").encode("utf-8")
    assert list(path.parent.iterdir()) == [path]  # the partial file was renamed into place


def test_changed_content_is_refused_with_both_short_hashes_and_every_bump_option() -> None:
    records = {"tool": VersionRecord("1.2.0", OLD, {"1.2.0": OLD})}
    with pytest.raises(VersionError) as raised:
        check_version("tool", NEW, records)
    assert str(raised.value) == (
        "tool: content changed (hash 0123456789ab -> fedcba987654) but version 1.2.0 was "
        "recorded for the old content and published versions are immutable; run "
        '`python build.py bump tool --patch --note "what changed"` (or --minor / --major)'
    )


def test_unchanged_content_keeps_its_recorded_version() -> None:
    assert check_version("tool", OLD, {"tool": VersionRecord("1.2.0", OLD, {})}) == "1.2.0"


def test_a_new_product_starts_at_1_0_0_with_its_hash_recorded() -> None:
    assert bump("tool", NEW, "major", {}) == VersionRecord("1.0.0", NEW, {"1.0.0": NEW})


@pytest.mark.parametrize("version", ["1.0", "01.0.0", "1.0.0-rc1", "v1.0.0"])
def test_a_version_that_is_not_major_minor_patch_cannot_be_bumped(version: str) -> None:
    with pytest.raises(VersionError) as raised:
        next_version(version, "patch")
    assert str(raised.value) == f"version {version!r} is not MAJOR.MINOR.PATCH"
