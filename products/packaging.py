"""Deterministic Lambda deployment packages.

A package is the handler folder, the shared library and the handler's pinned dependencies
installed for the Lambda platform, zipped with sorted entries, fixed timestamps and fixed modes,
so the same inputs always give the same bytes and the same content-addressed name.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from products.errors import BuildError

ROOT = Path(__file__).resolve().parent.parent
HANDLERS_DIR = ROOT / "handlers"
DEPENDENCY_CACHE = ROOT / ".cache" / "lambda-deps"
# Finished zips by the hash of everything that goes into them: a warm build copies, never zips.
PACKAGE_CACHE = ROOT / ".cache" / "lambda-packages"
# 2: bytecode for the runtime added. Bump when the zip layout changes (old entries never hit).
PACKAGE_FORMAT = "2"


@dataclass(frozen=True)
class LambdaPlatform:
    """One LambdaArchitecture x LambdaRuntime choice, and the wheels that run there."""

    architecture: str  # the product's LambdaArchitecture value
    runtime: str  # the product's LambdaRuntime value

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        # Lambda's python3.12/3.13 run on Amazon Linux 2023 (glibc 2.34): manylinux2014 and
        # manylinux_2_28 wheels both load there; some packages publish only one of the two.
        machine = "aarch64" if self.architecture == "arm64" else "x86_64"
        return (f"manylinux2014_{machine}", f"manylinux_2_28_{machine}")


LAMBDA_PLATFORMS = tuple(
    LambdaPlatform(architecture, runtime)
    for architecture in ("arm64", "x86_64")
    for runtime in ("python3.12", "python3.13")
)
# The platform of a tool's one package when it is pure Python (the product's defaults).
DEFAULT_PLATFORM = LambdaPlatform("arm64", "python3.13")
CACHE_MARKER = ".complete"  # written last: a cached install without it is incomplete
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest timestamp a zip entry can hold
FILE_MODE = 0o644 << 16
EXCLUDED_PARTS = {"__pycache__", "tests", ".pytest_cache", ".mypy_cache"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


def build_handler_zip(
    tool: str,
    out_dir: Path,
    handlers_dir: Path = HANDLERS_DIR,
    platform: LambdaPlatform = DEFAULT_PLATFORM,
    package_cache: Path | None = None,
) -> Path:
    """Build handlers/<tool> for PLATFORM into out_dir/<tool>-<sha256>.zip; return its path.

    The package cache (PACKAGE_CACHE unless given) keeps finished zips by their inputs' hash.
    """
    tool_dir = handlers_dir / tool
    if not (tool_dir / "app.py").is_file():
        raise BuildError(f"handler {tool!r}: {tool_dir / 'app.py'} does not exist")
    sources = dict(_source_entries(tool_dir, handlers_dir / "shared" / "oncall_shared"))
    requirements = tool_dir / "requirements.txt"
    cache = package_cache or PACKAGE_CACHE
    cached = _cached_package(cache, tool, sources, requirements, platform)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / cached.name
    if not target.exists():  # the name carries the content's sha256: same name, same bytes
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        shutil.copyfile(cached, partial)
        partial.replace(target)
    return target


def _input_key(sources: dict[str, bytes], requirements: Path, platform: LambdaPlatform) -> str:
    """Everything the zip's bytes depend on: the sources, and the dependencies' own cache key."""
    digest = hashlib.sha256(f"format {PACKAGE_FORMAT}\n".encode())
    for name in sorted(sources):
        digest.update(f"{name}\0{hashlib.sha256(sources[name]).hexdigest()}\n".encode())
    # The bytecode depends on the interpreter that compiles it (or its absence).
    digest.update(f"bytecode {runtime_interpreter(platform.python_version)}\n".encode())
    if requirements.is_file() and _requirement_lines(requirements):
        key = _dependency_key(_requirement_lines(requirements), platform)
        digest.update(f"deps {key}".encode())
    return digest.hexdigest()


def _cached_package(
    cache: Path, tool: str, sources: dict[str, bytes], requirements: Path, platform: LambdaPlatform
) -> Path:
    """The zip for these inputs: from the cache, or zipped (level 9) and stored on a miss."""
    folder = _ensure_dir(cache / _input_key(sources, requirements, platform)[:32])
    found = sorted(folder.glob(f"{tool}-*.zip"))
    if found:
        return found[0]
    entries = dict(sources)
    entries.update(_dependency_entries(requirements, platform))
    entries.update(_bytecode_entries(entries, platform))
    data = _zip_bytes(entries)
    target = folder / f"{tool}-{hashlib.sha256(data).hexdigest()}.zip"
    _write_atomically(target, data)
    return target


# Run by the runtime's own interpreter version (a .pyc is valid for one minor version only).
# Unchecked-hash pycs: Lambda's /var/task is read-only and its files all carry one timestamp, so
# the import system must use the shipped bytecode without checking it against the source.
# PYTHONHASHSEED=0 keeps frozenset constants in one order: the same source, the same bytes.
_COMPILE_SCRIPT = """
import os, py_compile, sys
root = sys.argv[1]
for folder, _dirs, files in os.walk(root):
    for name in files:
        if name.endswith(".py"):
            path = os.path.join(folder, name)
            shown = "/var/task/" + os.path.relpath(path, root).replace(os.sep, "/")
            try:
                py_compile.compile(path, dfile=shown, doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            except py_compile.PyCompileError:
                pass  # source for another Python (a vendored backport): shipped as source only
"""


def _bytecode_entries(entries: dict[str, bytes], platform: LambdaPlatform) -> dict[str, bytes]:
    """__pycache__/*.pyc for every .py entry, compiled for the platform's Python version."""
    interpreter = runtime_interpreter(platform.python_version)
    if interpreter is None:
        sys.stderr.write(
            f"note: no Python {platform.python_version} interpreter here: the {platform.runtime} "
            "package ships without bytecode (Lambda then compiles every module at each cold "
            "start)\n"
        )
        return {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name, data in entries.items():
            if name.endswith(".py"):
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(data)
        _compile_tree(interpreter, root)
        return {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("__pycache__/*.pyc"))
        }


def _compile_tree(interpreter: Path, root: Path) -> None:
    command = [str(interpreter), "-I", "-c", _COMPILE_SCRIPT, str(root)]
    environment = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")}
    result = subprocess.run(  # noqa: S603 - our own script, run by a known interpreter
        command, capture_output=True, text=True, check=False, env=environment
    )
    if result.returncode != 0:
        raise BuildError(f"compiling bytecode with {interpreter} failed: {_last_line(result)}")


@functools.cache
def runtime_interpreter(python_version: str) -> Path | None:
    """A CPython of this minor version (pyenv's, or one on PATH), or None."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(pyenv.glob(f"{python_version}.*/bin/python{python_version}"), reverse=True)
    on_path = shutil.which(f"python{python_version}")
    for candidate in [*candidates, *([Path(on_path)] if on_path else [])]:
        if _reports_version(candidate, python_version):
            return candidate
    return None


def _reports_version(interpreter: Path, python_version: str) -> bool:
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    result = subprocess.run(  # noqa: S603 - a version probe
        [str(interpreter), "-I", "-c", probe], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and result.stdout.strip() == python_version


def _ensure_dir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def package_digest(path: Path) -> str:
    """The sha256 a package's name carries."""
    return path.stem.rsplit("-", 1)[1]


def _source_entries(tool_dir: Path, shared: Path) -> Iterator[tuple[str, bytes]]:
    for path in _files_under(tool_dir):
        if path.name == "requirements.txt" and path.parent == tool_dir:
            continue
        yield path.relative_to(tool_dir).as_posix(), path.read_bytes()
    if shared.is_dir():
        for path in _files_under(shared):
            yield path.relative_to(shared.parent).as_posix(), path.read_bytes()


def _files_under(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not _excluded(relative):
            yield path


def _excluded(relative: Path) -> bool:
    return bool(EXCLUDED_PARTS.intersection(relative.parts)) or relative.suffix in EXCLUDED_SUFFIXES


def _dependency_entries(
    requirements: Path, platform: LambdaPlatform
) -> Iterator[tuple[str, bytes]]:
    if not requirements.is_file() or not _requirement_lines(requirements):
        return
    installed = _installed_dependencies(requirements, platform)
    for path in _files_under(installed):
        relative = path.relative_to(installed)
        # Console scripts are useless inside Lambda; the marker is our cache's, not the package's.
        if relative.parts[0] == "bin" or relative.name == CACHE_MARKER:
            continue
        yield relative.as_posix(), path.read_bytes()


def _requirement_lines(requirements: Path) -> list[str]:
    lines = requirements.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _installed_dependencies(requirements: Path, platform: LambdaPlatform) -> Path:
    """Install the pinned requirements for Lambda once; later builds reuse the cached folder."""
    lines = _requirement_lines(requirements)
    _require_pins(requirements, lines)
    target = DEPENDENCY_CACHE / _dependency_key(lines, platform)[:32]
    if (target / CACHE_MARKER).is_file():
        return target
    # Parallel builds (test workers, CI steps) each install into their own staging folder;
    # the first rename wins and the others discard their identical copy.
    staging = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    _pip_install(requirements, staging, platform)
    (staging / CACHE_MARKER).write_text("ok\n")
    try:
        staging.rename(target)
    except OSError:
        if not (target / CACHE_MARKER).is_file():
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _dependency_key(lines: list[str], platform: LambdaPlatform) -> str:
    # pip's version is part of the key: another pip may lay out the same wheels differently.
    where = [*platform.pip_platforms, platform.python_version]
    key_parts = [*where, _pip_version(), *sorted(lines)]
    return hashlib.sha256("\n".join(key_parts).encode()).hexdigest()


@functools.cache
def _pip_version() -> str:
    from importlib.metadata import version

    return version("pip")


def _require_pins(requirements: Path, lines: list[str]) -> None:
    # Unpinned or partly pinned requirements would make the package change under us.
    for line in lines:
        if "==" not in line:
            raise BuildError(f"{requirements}: {line!r} is not pinned with '=='")


def _pip_install(requirements: Path, target: Path, platform: LambdaPlatform) -> None:
    platforms = [option for name in platform.pip_platforms for option in ("--platform", name)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        *platforms,
        "--python-version",
        platform.python_version,
        # Every transitive dependency is pinned in the file itself: nothing is resolved freshly.
        "--no-deps",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BuildError(
            f"{requirements}: installing dependencies for Lambda failed: {_last_line(result)}"
        )
    # pip records the absolute install path and time in some metadata; drop what varies.
    for variable in target.glob("*.dist-info/RECORD"):
        variable.unlink()
    for variable in target.glob("*.dist-info/INSTALLER"):
        variable.unlink()
    for variable in target.glob("*.dist-info/direct_url.json"):
        variable.unlink()


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else f"pip exited with {result.returncode}"


def _zip_bytes(entries: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits mean the same everywhere
            archive.writestr(
                info, entries[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9
            )
    return buffer.getvalue()


def _write_atomically(target: Path, data: bytes) -> None:
    if target.exists() and target.read_bytes() == data:
        return
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(target)
