"""The handler tests, run again under every Python the products' LambdaRuntime allows.

The development interpreter may differ from the Lambda runtimes (python3.12, python3.13), and
Python changes under the handlers between versions (ipaddress's private ranges, json's limits,
datetime). So for each runtime, one test here runs the handler tests in a child pytest on that
interpreter, importing the handlers' dependencies from the packages the build makes for it
(products.packaging, this machine's architecture) ahead of anything else. The child's virtual
environment holds only the test tools (pytest, hypothesis, moto and the boto3 the runtime
ships, pinned by requirements.txt); it is created once per interpreter and pin set under
.cache/runtime-tests/ and reused.

The whole folder takes minutes per runtime, so the child runs the tests where the Python
version shows: every module test of the shared library, each handler's fuzz tests (the whole
handler on moto, hundreds of events), the SSRF guard and target parsing, the probes, the
compiled multi-pattern engine (its wheel is built per runtime), the log reader and rules, and
the trigger and severity parsers. The app, state and dedupe tests exercise AWS calls through
moto, which the fuzz tests already cover on each runtime; they, the packaged-zip tests (their
own interpreters) and the scale test are left to the development run.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / ".cache" / "runtime-tests"
TOOLS = ("alert_handler", "auto_healer", "health_checker", "log_processor")
# What the handler tests import beyond the handlers' own dependencies; versions come from
# requirements.txt (a constraints file), so the child tests with the pins the suite uses.
TEST_TOOLS = ("pytest", "hypothesis", "moto[server]", "boto3", "botocore")
CHILD_TESTS = (
    "tests/handlers/shared",
    "tests/handlers/alert_handler/test_fuzz.py",
    "tests/handlers/alert_handler/test_severity.py",
    "tests/handlers/alert_handler/test_channels.py",
    "tests/handlers/auto_healer/test_fuzz.py",
    "tests/handlers/auto_healer/test_triggers.py",
    "tests/handlers/health_checker/test_fuzz.py",
    "tests/handlers/health_checker/test_netguard.py",
    "tests/handlers/health_checker/test_netguard_tunnels.py",
    "tests/handlers/health_checker/test_targets.py",
    "tests/handlers/health_checker/test_probes.py",
    "tests/handlers/log_processor/test_fuzz.py",
    "tests/handlers/log_processor/test_multimatch.py",
    "tests/handlers/log_processor/test_reader.py",
    "tests/handlers/log_processor/test_rules.py",
    "tests/handlers/test_network_guard.py",
)

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
from products.packaging import LambdaPlatform, build_handler_zip, runtime_interpreter  # noqa: E402

GOLDEN = REPO_ROOT / "tests" / "products" / "golden"


def allowed_runtimes() -> list[str]:
    """Every LambdaRuntime AllowedValue the product templates declare (their golden copies,
    which test_golden keeps equal to what the build makes)."""
    runtimes: set[str] = set()
    for template in GOLDEN.glob("*.json"):
        parameters = json.loads(template.read_text(encoding="utf-8")).get("Parameters", {})
        runtimes.update(parameters.get("LambdaRuntime", {}).get("AllowedValues", []))
    return sorted(runtimes)


def machine_architecture() -> str:
    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def _locked(name: str) -> int:
    CACHE.mkdir(parents=True, exist_ok=True)
    handle = os.open(CACHE / f"{name}.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def runtime_venv(interpreter: Path, version: str) -> Path:
    """A venv of ``interpreter`` with the test tools, created once per pin set."""
    pins = (REPO_ROOT / "requirements.txt").read_bytes()
    key = hashlib.sha256(pins + " ".join(TEST_TOOLS).encode() + str(interpreter).encode())
    venv = CACHE / f"venv-{version}-{key.hexdigest()[:16]}"
    if (venv / ".complete").is_file():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([str(interpreter), "-m", "venv", str(venv)], check=True, timeout=300)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    install += ["--disable-pip-version-check", "-c", str(REPO_ROOT / "requirements.txt")]
    subprocess.run([*install, *TEST_TOOLS], check=True, timeout=900)
    (venv / ".complete").write_text("ok\n")
    return venv


def packaged_dependencies(runtime: str) -> list[Path]:
    """Each tool's package for this runtime and machine, unzipped once (by content hash)."""
    target = LambdaPlatform(machine_architecture(), runtime)
    folders = []
    for tool in TOOLS:
        archive = build_handler_zip(tool, CACHE / "dist", platform=target)
        folder = CACHE / "packages" / archive.stem
        if not (folder / ".complete").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(folder)
            (folder / ".complete").write_text("ok\n")
        folders.append(folder)
    return folders


def child_command(venv: Path) -> list[str]:
    command = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    # The suite's addopts load localcloud (not needed here, and not installed in the child).
    command += ["-o", "addopts=--import-mode=importlib --strict-markers", "-x"]
    # The packaged-X-Ray tests start their own interpreter from a built zip: development run only.
    command += ["-k", "not sampled_invocation"]
    return [*command, *CHILD_TESTS]


@pytest.mark.parametrize("runtime", allowed_runtimes())
def test_the_handler_tests_pass_on_the_lambda_runtime(runtime: str) -> None:
    version = runtime.removeprefix("python")
    interpreter = runtime_interpreter(version)
    assert interpreter is not None, (
        f"no Python {version} interpreter (pyenv or python{version} on PATH): the handlers run "
        f"on the {runtime} Lambda runtime and must be tested on it"
    )
    lock = _locked(runtime)
    try:
        venv = runtime_venv(interpreter, version)
        packages = packaged_dependencies(runtime)
    finally:
        os.close(lock)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        # The packaged dependencies first: the handlers import what their zip ships.
        "PYTHONPATH": os.pathsep.join([*map(str, packages), str(REPO_ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        child_command(venv),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1:] or done.stderr.strip().splitlines()[-1:]
    assert done.returncode == 0, f"{runtime}: {summary}\n{done.stdout[-6000:]}{done.stderr[-3000:]}"


def prepare() -> None:
    """Create each runtime's venv ahead of the test run (scripts/setup calls this), so the
    timed suite does not pay for installing them on a fresh machine."""
    for runtime in allowed_runtimes():
        version = runtime.removeprefix("python")
        interpreter = runtime_interpreter(version)
        if interpreter is None:
            print(f"warning: no Python {version}: the {runtime} handler tests will fail")
            continue
        lock = _locked(runtime)
        try:
            print(f"{runtime}: test venv {runtime_venv(interpreter, version).name}")
        finally:
            os.close(lock)


if __name__ == "__main__":
    prepare()
