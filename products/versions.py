"""Product versions and the content hash recorded with each, kept in products/versions.json.

A published version is immutable, so content that changed must carry a new version: building
changed content under a recorded version fails and says how to bump.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from products.errors import VersionError
from products.release_notes import CHANGELOG_DIR, add_release_note, checked_note

VERSIONS_FILE = Path(__file__).resolve().parent / "versions.json"
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
INITIAL_VERSION = "1.0.0"
Part = Literal["major", "minor", "patch"]


@dataclass(frozen=True)
class VersionRecord:
    version: str
    content_hash: str
    history: dict[str, str]


def read_version_records(path: Path = VERSIONS_FILE) -> dict[str, VersionRecord]:
    if not path.exists():
        return {}
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise VersionError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno})"
        ) from error
    records = {}
    for product, entry in raw.items():
        _check_semver(path, product, entry.get("version"))
        records[product] = VersionRecord(entry["version"], entry["content_hash"], entry["history"])
    return records


def write_version_records(records: dict[str, VersionRecord], path: Path = VERSIONS_FILE) -> None:
    data = {
        product: {
            "version": record.version,
            "content_hash": record.content_hash,
            "history": dict(sorted(record.history.items(), key=lambda item: _key(item[0]))),
        }
        for product, record in sorted(records.items())
    }
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def check_version(product: str, content_hash: str, records: dict[str, VersionRecord]) -> str:
    """The version for PRODUCT's content; refuses changed content under a recorded version."""
    record = records.get(product)
    if record is None:
        raise VersionError(
            f"{product}: no version recorded in {VERSIONS_FILE.name}; run "
            f"`python build.py bump {product}` to record {INITIAL_VERSION}"
        )
    if record.content_hash != content_hash:
        raise VersionError(
            f"{product}: content changed (hash {record.content_hash[:12]} -> {content_hash[:12]}) "
            f"but version {record.version} was recorded for the old content and published "
            f"versions are immutable; run `python build.py bump {product} --patch "
            '--note "what changed"` (or --minor / --major)'
        )
    return record.version


def bump(
    product: str, content_hash: str, part: Part, records: dict[str, VersionRecord]
) -> VersionRecord:
    """A new record for PRODUCT: next version for CONTENT_HASH (or 1.0.0 for a new product)."""
    record = records.get(product)
    if record is None:
        return VersionRecord(INITIAL_VERSION, content_hash, {INITIAL_VERSION: content_hash})
    if record.content_hash == content_hash:
        raise VersionError(
            f"{product}: content is unchanged since {record.version}; nothing to bump"
        )
    version = next_version(record.version, part)
    return VersionRecord(version, content_hash, {**record.history, version: content_hash})


def record_bump(
    product: str,
    content_hash: str,
    part: Part,
    note: str,
    *,
    today: dt.date,
    versions_path: Path = VERSIONS_FILE,
    changelog_dir: Path = CHANGELOG_DIR,
) -> VersionRecord:
    """Bump PRODUCT in the versions file and record NOTE for the new version in its changelog.

    The note is checked first, so a refused note changes neither file."""
    line = checked_note(product, note)
    records = read_version_records(versions_path)
    record = bump(product, content_hash, part, records)
    write_version_records({**records, product: record}, versions_path)
    add_release_note(product, record.version, line, today, changelog_dir)
    return record


def next_version(version: str, part: Part) -> str:
    match = SEMVER.match(version)
    if match is None:
        raise VersionError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(group) for group in match.groups())
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def _check_semver(path: Path, product: str, version: object) -> None:
    if not isinstance(version, str) or SEMVER.match(version) is None:
        raise VersionError(f"{path}: {product}.version: {version!r} is not MAJOR.MINOR.PATCH")


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
