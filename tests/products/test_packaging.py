"""Packages are deterministic zips of handler code, the shared library and pinned dependencies."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from products.errors import BuildError
from products.packaging import (
    DEFAULT_PLATFORM,
    HANDLERS_DIR,
    LAMBDA_PLATFORMS,
    PACKAGE_CACHE,
    ZIP_EPOCH,
    LambdaPlatform,
    build_handler_zip,
    package_digest,
    runtime_interpreter,
)


def test_same_source_gives_same_bytes_and_name(tmp_path: Path) -> None:
    # Fresh package caches: both zips are really built (bytecode compiled, files zipped).
    first = build_handler_zip("alert_handler", tmp_path / "one", package_cache=tmp_path / "c1")
    second = build_handler_zip("alert_handler", tmp_path / "two", package_cache=tmp_path / "c2")
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
    assert not [name for name in names if name.endswith(".pyo")]
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


def _magic_number(interpreter: Path) -> bytes:
    probe = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
    result = subprocess.run(
        [str(interpreter), "-c", probe], capture_output=True, text=True, check=True
    )
    return bytes.fromhex(result.stdout)


@pytest.mark.parametrize("target", LAMBDA_PLATFORMS, ids=lambda p: f"{p.architecture}-{p.runtime}")
def test_packages_ship_unchecked_hash_bytecode_for_their_runtime(
    tmp_path: Path, target: LambdaPlatform
) -> None:
    interpreter = runtime_interpreter(target.python_version)
    assert interpreter is not None, f"this machine has Python {target.python_version} (pyenv)"
    package = build_handler_zip("log_processor", tmp_path, platform=target)
    tag = "cpython-" + target.python_version.replace(".", "")
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        header = archive.read(f"__pycache__/app.{tag}.pyc")[:8]
        shared = f"oncall_shared/__pycache__/settings.{tag}.pyc"
        dependency = f"aws_lambda_powertools/__pycache__/__init__.{tag}.pyc"
    assert {shared, dependency} <= names
    assert header[:4] == _magic_number(interpreter)
    # PEP 552 flags: bit 0 = hash-based, bit 1 = check the source: 0b01 is unchecked-hash.
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_the_single_package_of_a_pure_python_tool_is_for_the_default_runtime(
    tmp_path: Path,
) -> None:
    package = build_handler_zip("alert_handler", tmp_path)
    tag = "cpython-" + DEFAULT_PLATFORM.python_version.replace(".", "")
    with zipfile.ZipFile(package) as archive:
        assert f"__pycache__/app.{tag}.pyc" in archive.namelist()
