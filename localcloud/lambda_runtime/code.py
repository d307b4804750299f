"""A function's deployment package, unzipped once per content hash into a private folder."""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

_lock = threading.Lock()
_root: Path | None = None


def _code_root() -> Path:
    global _root  # noqa: PLW0603 - created on first use, removed at exit
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="localcloud-lambda-code-"))
        atexit.register(shutil.rmtree, _root, True)
    return _root


def code_folder(code_sha: str, code_bytes: bytes) -> Path:
    """The folder holding this package's files (the function's /var/task)."""
    with _lock:
        target = _code_root() / (code_sha or "empty")
        if target.is_dir():
            return target
        staging = Path(tempfile.mkdtemp(dir=_code_root()))
        _unzip(code_bytes, staging)
        staging.rename(target)
        return target


def _unzip(code_bytes: bytes, target: Path) -> None:
    # A package that is not a zip leaves the folder empty: the import then fails in the worker
    # with Runtime.ImportModuleError, as a broken package does on Lambda.
    if not code_bytes:
        return
    try:
        with zipfile.ZipFile(io.BytesIO(code_bytes)) as archive:
            archive.extractall(target)
    except zipfile.BadZipFile:
        return
