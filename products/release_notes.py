"""Release notes: one line per version, kept in products/changelogs/<product>/CHANGELOG.md.

`bump` writes the note of the version it records (newest first, with the date); the build puts
the note of the version it builds into the manifest, and publish makes it the version's
description in the Service Catalog console, followed by the content hash and the commit.
The notes are not part of the content hash: writing one never asks for another bump.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from products.errors import VersionError

CHANGELOG_DIR = Path(__file__).resolve().parent / "changelogs"
CHANGELOG_NAME = "CHANGELOG.md"
# What the console shows is the note, then the hash and the commit (about 120 characters), in a
# description of at most 8192: a release note is a line, not a document.
MAX_NOTE_LENGTH = 300
_ENTRY = re.compile(r"^## (\d+\.\d+\.\d+) \((\d{4}-\d{2}-\d{2})\)$")


@dataclass(frozen=True)
class ReleaseNote:
    version: str
    date: str  # YYYY-MM-DD
    note: str


def changelog_path(product: str, folder: Path = CHANGELOG_DIR) -> Path:
    return folder / product / CHANGELOG_NAME


def checked_note(product: str, note: str) -> str:
    """NOTE as recorded: one non-empty line of at most MAX_NOTE_LENGTH characters."""
    if "\n" in note.strip() or "\r" in note.strip():
        raise VersionError(f"{product}: the release note must be one line, got {note!r}")
    line = note.strip()
    if not line:
        raise VersionError(f"{product}: the release note is empty; say what changed in one line")
    if len(line) > MAX_NOTE_LENGTH:
        raise VersionError(
            f"{product}: the release note has {len(line)} characters; "
            f"keep it to one line of at most {MAX_NOTE_LENGTH}"
        )
    return line


def read_release_notes(product: str, folder: Path = CHANGELOG_DIR) -> dict[str, ReleaseNote]:
    """Every version's note in PRODUCT's changelog (none when it has no changelog yet)."""
    path = changelog_path(product, folder)
    if not path.exists():
        return {}
    notes: dict[str, ReleaseNote] = {}
    heading: re.Match[str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("## "):
            heading = _ENTRY.match(line)
            if heading is None:
                raise VersionError(
                    f"{path}:{number}: {line!r} is not '## MAJOR.MINOR.PATCH (YYYY-MM-DD)'"
                )
        elif heading is not None and line.strip():
            version, date = heading.groups()
            notes[version] = ReleaseNote(version, date, line.strip())
            heading = None
    return notes


def add_release_note(
    product: str, version: str, note: str, date: dt.date, folder: Path = CHANGELOG_DIR
) -> Path:
    """Record NOTE for VERSION at the top of PRODUCT's changelog (newest first)."""
    path = changelog_path(product, folder)
    line = checked_note(product, note)
    entries = _entries_text(path)
    entry = f"## {version} ({date.isoformat()})\n\n{line}\n"
    text = _header(product) + "\n" + entry + ("\n" + entries if entries else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def _header(product: str) -> str:
    return (
        f"# {product}: release notes\n\n"
        f"Newest first. Each version's note is written by `python build.py bump {product} "
        "--note ...`\nand is the version's description in the Service Catalog console.\n"
    )


def _entries_text(path: Path) -> str:
    """The changelog from its first entry on (the header is written anew)."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    start = text.find("\n## ")
    return text[start + 1 :] if start >= 0 else ""
