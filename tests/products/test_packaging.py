"""Packages are deterministic zips of handler code, the shared library and pinned dependencies."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from products.errors import BuildError
from products.packaging import (
    HANDLERS_DIR,
    PACKAGE_CACHE,
    ZIP_EPOCH,
    build_handler_zip,
    package_digest,
)


def test_same_source_gives_same_bytes_and_name(tmp_path: Path) -> None:
    first = build_handler_zip("alert_handler", tmp_path / "one")
    second = build_handler_zip("alert_handler", tmp_path / "two")
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()
    assert package_digest(first) == hashlib.sha256(first.read_bytes()).hexdigest()


def test_entries_are_sorted_with_fixed_time_and_mode(tmp_path: Path) -> None:
    package = build_handler_zip("log_processor", tmp_path)
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {ZIP_EPOCH}
    assert {info.external_attr >> 16 for info in infos} == {0o644}
    assert "app.py" in names
    assert "oncall_shared/__init__.py" in names
    assert "aws_lambda_powertools/__init__.py" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert "requirements.txt" not in names


def _copy_handlers(tmp_path: Path, requirements: str) -> Path:
    handlers = tmp_path / "handlers"
    shutil.copytree(HANDLERS_DIR / "shared", handlers / "shared")
    (handlers / "demo").mkdir(parents=True)
    (handlers / "demo" / "app.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (handlers / "demo" / "requirements.txt").write_text(requirements)
    return handlers


def test_a_code_change_changes_the_name(tmp_path: Path) -> None:
    handlers = _copy_handlers(tmp_path, "")
    before = build_handler_zip("demo", tmp_path / "out", handlers)
    (handlers / "demo" / "app.py").write_text("def lambda_handler(event, context):\n    return 2\n")
    after = build_handler_zip("demo", tmp_path / "out", handlers)
    assert before.name != after.name


def test_unpinned_requirement_is_refused(tmp_path: Path) -> None:
    handlers = _copy_handlers(tmp_path, "requests>=2\n")
    with pytest.raises(BuildError, match=r"requirements\.txt: 'requests>=2' is not pinned"):
        build_handler_zip("demo", tmp_path / "out", handlers)


def test_missing_handler_is_named(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"handler 'nothing_here': .*app\.py does not exist"):
        build_handler_zip("nothing_here", tmp_path, tmp_path)


def _cache_entry(package: Path) -> Path:
    [entry] = PACKAGE_CACHE.glob(f"*/{package.name}")
    return entry


def test_unchanged_inputs_reuse_the_cached_zip_byte_for_byte(tmp_path: Path) -> None:
    handlers = _copy_handlers(tmp_path, "")
    # Inputs of our own (the path is unique): this test's cache entry is shared with no other.
    marker = f"def lambda_handler(event, context):\n    return {str(tmp_path)!r}\n"
    (handlers / "demo" / "app.py").write_text(marker)
    first = build_handler_zip("demo", tmp_path / "one", handlers)
    entry = _cache_entry(first)
    try:
        # Stand-in bytes under the cached name: a warm build that zipped again would not copy them.
        entry.write_bytes(b"cached bytes")
        second = build_handler_zip("demo", tmp_path / "two", handlers)
        assert second.name == first.name
        assert second.read_bytes() == b"cached bytes"
    finally:
        shutil.rmtree(entry.parent)


def test_changed_inputs_miss_the_cache(tmp_path: Path) -> None:
    handlers = _copy_handlers(tmp_path, "")
    (handlers / "demo" / "app.py").write_text(f"X = {str(tmp_path)!r}\n")
    first = build_handler_zip("demo", tmp_path / "out", handlers)
    (handlers / "demo" / "extra.py").write_text("Y = 1\n")
    second = build_handler_zip("demo", tmp_path / "out", handlers)
    assert second.name != first.name
    with zipfile.ZipFile(second) as archive:
        assert archive.read("extra.py") == b"Y = 1\n"
    for package in (first, second):
        shutil.rmtree(_cache_entry(package).parent)
