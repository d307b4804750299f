"""The log processor ships one package per LambdaArchitecture x LambdaRuntime, and each one works.

Hyperscan is a compiled wheel: a package holds the build for one CPU and one Python. Where this
machine can run the package (x86_64 with CPython 3.12 / 3.13 from pyenv), the engine is really
imported and used by that interpreter; elsewhere the wheel's tags are checked, and the arm64
package run here shows the clean fallback to re.
"""

from __future__ import annotations

import json
import platform
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from catalog.manifest import Manifest
from products.packaging import LAMBDA_PLATFORMS, LambdaPlatform, build_handler_zip

PYENV = Path("/root/.pyenv/versions")
INTERPRETERS = {
    "python3.12": PYENV / "3.12.1" / "bin" / "python3.12",
    "python3.13": PYENV / "3.13.0" / "bin" / "python3.13",
}
MACHINE = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
# The engine, as the handler builds it, on lines each default rule and a literal-less rule match.
USE_THE_ENGINE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from log_rules import build_rules
from log_scan import RuleEngine, SourceTally
engine = RuleEngine(build_rules([{"name": "auth", "pattern": r"\\b40[13] "}]), 5)
tally = SourceTally("g", "s", "u")
engine.scan("GET / 403 x\\nERROR boom\\nok\\nTask timed out after 3 s", tally)
print(json.dumps({"hyperscan": engine.multi is not None,
                  "counts": {name: t.count for name, t in tally.rules.items()}}))
"""
EXPECTED_COUNTS = {"auth": 1, "errors": 1, "timeouts": 1}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[LambdaPlatform, Path]:
    out = tmp_path_factory.mktemp("platform-packages")
    return {p: build_handler_zip("log_processor", out, platform=p) for p in LAMBDA_PLATFORMS}


def _wheel_tags(package: Path) -> list[str]:
    with zipfile.ZipFile(package) as archive:
        [wheel] = [
            n for n in archive.namelist() if n.startswith("hyperscan-") and n.endswith("/WHEEL")
        ]
        text = archive.read(wheel).decode()
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


@pytest.mark.parametrize("target", LAMBDA_PLATFORMS, ids=lambda p: f"{p.architecture}-{p.runtime}")
def test_each_package_holds_the_wheel_for_its_cpu_and_python(
    packages: dict[LambdaPlatform, Path], target: LambdaPlatform
) -> None:
    cpython = "cp" + target.python_version.replace(".", "")
    machine = "aarch64" if target.architecture == "arm64" else "x86_64"
    tags = _wheel_tags(packages[target])
    assert tags and all(tag.startswith(f"{cpython}-{cpython}-") for tag in tags), tags
    assert all(tag.endswith(machine) for tag in tags), tags
    assert packages[target].stat().st_size <= 10 * 1024 * 1024


def _run_engine(package: Path, interpreter: Path, tmp_path: Path) -> dict[str, Any]:
    code = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(code)
    code.chmod(0o555)  # Lambda's /var/task is read-only
    command = [str(interpreter), "-S", "-c", USE_THE_ENGINE, str(code)]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env={"PYTHONDONTWRITEBYTECODE": "1"}
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("runtime", ["python3.12", "python3.13"])
def test_the_package_for_this_machine_runs_hyperscan(
    packages: dict[LambdaPlatform, Path], runtime: str, tmp_path: Path
) -> None:
    if MACHINE != "x86_64" or not INTERPRETERS[runtime].is_file():
        pytest.fail(f"this test needs x86_64 and {INTERPRETERS[runtime]} (the project's CI image)")
    result = _run_engine(
        packages[LambdaPlatform("x86_64", runtime)], INTERPRETERS[runtime], tmp_path
    )
    assert result == {"hyperscan": True, "counts": EXPECTED_COUNTS}


def test_a_package_for_another_cpu_falls_back_to_re(
    packages: dict[LambdaPlatform, Path], tmp_path: Path
) -> None:
    other = "arm64" if MACHINE == "x86_64" else "x86_64"
    result = _run_engine(
        packages[LambdaPlatform(other, "python3.13")], INTERPRETERS["python3.13"], tmp_path
    )
    assert result == {"hyperscan": False, "counts": EXPECTED_COUNTS}


def _pick(expression: Any, conditions: dict[str, bool]) -> str:
    if isinstance(expression, str):
        return expression
    condition, when_true, when_false = expression["Fn::If"]
    return _pick(when_true if conditions[condition] else when_false, conditions)


@pytest.mark.parametrize("target", LAMBDA_PLATFORMS, ids=lambda p: f"{p.architecture}-{p.runtime}")
def test_the_template_picks_the_package_of_the_chosen_platform(
    built: tuple[Path, Manifest], packages: dict[LambdaPlatform, Path], target: LambdaPlatform
) -> None:
    out, manifest = built
    artifact = manifest.products["log-processor"]
    template = json.loads((out / artifact.template).read_text())
    key = template["Resources"]["Function"]["Properties"]["Code"]["S3Key"]
    conditions = {
        "PackageForX86": target.architecture == "x86_64",
        "PackageForPython312": target.runtime == "python3.12",
    }
    picked = _pick(key, conditions)
    assert picked.endswith(packages[target].name.removeprefix("log_processor-"))
    published = {artifact.package_key: artifact.package, **artifact.platform_packages}
    assert (out / published[picked]).is_file()
