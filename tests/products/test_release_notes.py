"""Release notes: one line per version in the product's CHANGELOG.md, into the build's manifest."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import cli
from catalog.config import load_config
from catalog.manifest import Manifest
from products.build import build_all
from products.errors import VersionError
from products.release_notes import (
    MAX_NOTE_LENGTH,
    ReleaseNote,
    add_release_note,
    changelog_path,
    checked_note,
    read_release_notes,
)
from products.versions import VERSIONS_FILE, read_version_records, record_bump

REPO = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("", "the release note is empty"),
        ("   ", "the release note is empty"),
        ("first line\nsecond line", "must be one line, got 'first line\\\\nsecond line'"),
        ("a\rb", "must be one line"),
        ("x" * (MAX_NOTE_LENGTH + 1), f"has {MAX_NOTE_LENGTH + 1} characters"),
    ],
)
def test_a_note_must_be_one_short_line(note: str, message: str) -> None:
    with pytest.raises(VersionError, match=f"^tool: .*{message}"):
        checked_note("tool", note)


def test_a_note_is_stripped_and_may_end_with_a_newline() -> None:
    assert checked_note("tool", "  Routes checked at launch.\n") == "Routes checked at launch."
    assert checked_note("tool", "x" * MAX_NOTE_LENGTH) == "x" * MAX_NOTE_LENGTH


def test_bump_records_the_version_and_its_note_newest_first(tmp_path: Path) -> None:
    versions, changelogs = tmp_path / "versions.json", tmp_path / "changelogs"
    first = record_bump(
        "tool",
        "a" * 64,
        "patch",
        "First cut.",
        today=DAY,
        versions_path=versions,
        changelog_dir=changelogs,
    )
    second = record_bump(
        "tool",
        "b" * 64,
        "minor",
        " Routes checked at launch. ",
        today=DAY + dt.timedelta(1),
        versions_path=versions,
        changelog_dir=changelogs,
    )
    assert (first.version, second.version) == ("1.0.0", "1.1.0")
    assert read_version_records(versions)["tool"].history == {"1.0.0": "a" * 64, "1.1.0": "b" * 64}
    text = changelog_path("tool", changelogs).read_text()
    assert text.index("## 1.1.0 (2026-11-30)\n\nRoutes checked at launch.\n") < text.index(
        "## 1.0.0 (2026-11-29)\n\nFirst cut.\n"
    )
    assert text.startswith("# tool: release notes\n")
    assert read_release_notes("tool", changelogs) == {
        "1.0.0": ReleaseNote("1.0.0", "2026-11-29", "First cut."),
        "1.1.0": ReleaseNote("1.1.0", "2026-11-30", "Routes checked at launch."),
    }


def test_a_refused_note_or_bump_changes_neither_file(tmp_path: Path) -> None:
    versions, changelogs = tmp_path / "versions.json", tmp_path / "changelogs"
    record_bump(
        "tool",
        "a" * 64,
        "patch",
        "First cut.",
        today=DAY,
        versions_path=versions,
        changelog_dir=changelogs,
    )
    before = (versions.read_text(), changelog_path("tool", changelogs).read_text())
    with pytest.raises(VersionError, match="one line"):
        record_bump(
            "tool",
            "b" * 64,
            "patch",
            "two\nlines",
            today=DAY,
            versions_path=versions,
            changelog_dir=changelogs,
        )
    with pytest.raises(VersionError, match=r"unchanged since 1\.0\.0"):
        record_bump(
            "tool",
            "a" * 64,
            "patch",
            "Again.",
            today=DAY,
            versions_path=versions,
            changelog_dir=changelogs,
        )
    assert (versions.read_text(), changelog_path("tool", changelogs).read_text()) == before


def test_a_malformed_changelog_heading_is_named_with_its_line(tmp_path: Path) -> None:
    add_release_note("tool", "1.0.0", "First cut.", DAY, tmp_path)
    path = changelog_path("tool", tmp_path)
    path.write_text(path.read_text() + "\n## 1.1 (yesterday)\n\nOops.\n")
    with pytest.raises(VersionError, match=r"CHANGELOG\.md:\d+: '## 1\.1 \(yesterday\)' is not"):
        read_release_notes("tool", tmp_path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], 'alert-handler: a version needs a release note; pass --note "what changed"'),
        (["--note", ""], "alert-handler: the release note is empty"),
        (["--note", "one\ntwo"], "alert-handler: the release note must be one line"),
    ],
)
def test_bump_refuses_a_missing_or_bad_note_before_touching_anything(
    extra: list[str], message: str
) -> None:
    before = VERSIONS_FILE.read_text()
    result = CliRunner().invoke(cli, ["bump", "alert-handler", "--patch", *extra])
    assert result.exit_code == 1
    assert f"error: {message}" in result.output
    assert VERSIONS_FILE.read_text() == before
    changed = subprocess.run(
        ["git", "status", "--porcelain", "products/changelogs"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert changed.stdout == ""


def test_the_build_puts_the_built_versions_note_in_the_manifest(tmp_path: Path) -> None:
    config = load_config(REPO / "catalog.yaml")
    records = read_version_records()
    changelogs = tmp_path / "changelogs"
    current = records["health-checker"].version
    add_release_note("health-checker", current, "Checks 1,000 targets.", DAY, changelogs)
    add_release_note("alert-handler", "0.0.1", "An old version's note.", DAY, changelogs)
    build_all(config, tmp_path / "dist", changelog_dir=changelogs)
    manifest = Manifest.load(tmp_path / "dist")
    assert manifest.products["health-checker"].release_note == "Checks 1,000 targets."
    assert manifest.products["alert-handler"].release_note == ""  # no note for the built version
    raw = json.loads((tmp_path / "dist" / "manifest.json").read_text())
    assert raw["products"]["health-checker"]["release_note"] == "Checks 1,000 targets."
