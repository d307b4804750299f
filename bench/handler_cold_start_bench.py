"""Cold start of each packaged handler as Lambda sees it: import app beyond import boto3.

Run after `python build.py build`: every zip in dist/packages is extracted to a read-only
temporary folder (Lambda's /var/task) and `import app` is timed with PYTHONDONTWRITEBYTECODE=1 in
fresh `python -S` interpreters of the package's runtime version (the version its shipped bytecode
was compiled for; pyenv's 3.12 / 3.13 here) that see only the package and the libraries the
Lambda runtime ships, compiled as the runtime has them. Each child imports boto3 first (every
Lambda pays that anyway) and then the app: the app's own time is what it costs beyond boto3.
Measured in one interpreter, not as the difference of two (`import app` in one child minus
`import boto3` in another): boto3's 300-450 ms varied by tens of ms between children, so that
difference came out negative in some rounds. Times are CPU seconds of the import
(time.process_time in the child): wall time on a loaded machine varies by half between runs.
Min and median over the rounds; goal <= 60 ms. Give --packages twice to compare two builds.

    .venv/bin/python bench/handler_cold_start_bench.py [--rounds 15] [--packages dist/packages]
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import subprocess
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 60
DEFAULT_RUNTIME = "3.13"
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
# CPython of each Lambda runtime version, as the packages' bytecode was compiled (pyenv here).
INTERPRETERS = {
    version: found[-1]
    for version in ("3.12", "3.13")
    if (found := sorted(PYENV.glob(f"{version}.*/bin/python{version}")))
}
LAMBDA_RUNTIME_PACKAGES = (
    "boto3",
    "botocore",
    "jmespath",
    "s3transfer",
    "dateutil",
    "urllib3",
    "six",
)
# The least each tool needs to import its app module (no AWS call is made at import).
IMPORT_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "OncallTools",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench",
    "DEDUPE_TABLE": "bench",
    "STATE_TABLE": "bench",
    "TARGETS": "[]",
}
# CPU time of the import: on a shared machine the wall clock mostly measures the neighbours.
# Prints the CPU seconds of `import app` in an interpreter that has imported boto3 already.
TIMER = (
    "import boto3\nimport time\nstarted = time.process_time()\nimport app\n"
    "print(time.process_time() - started)"
)


def runtime_dir(target: Path, interpreter: Path) -> Path:
    """What the Lambda Python runtime ships, with its bytecode for INTERPRETER (as Lambda has)."""
    for name in LAMBDA_RUNTIME_PACKAGES:
        module_file = Path(str(importlib.import_module(name).__file__))
        if module_file.name != "__init__.py":
            shutil.copy2(module_file, target / module_file.name)
            continue
        # botocore/data (service models, read when a client is made) is linked, not copied.
        ignore = shutil.ignore_patterns("__pycache__", "data") if name == "botocore" else None
        shutil.copytree(module_file.parent, target / name, ignore=ignore)
        if name == "botocore":
            (target / name / "data").symlink_to(module_file.parent / "data")
    command = [str(interpreter), "-m", "compileall", "-q", "-x", "/data/", str(target)]
    subprocess.run(command, check=True, capture_output=True)
    return target


def import_seconds(package: Path, runtime: Path, interpreter: Path) -> float:
    """CPU seconds of `import app` after `import boto3`, in one fresh interpreter."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(map(str, [package, runtime])),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only: nothing is cached at runtime
    }
    done = subprocess.run(
        [str(interpreter), "-S", "-c", TIMER],
        env={**env, **IMPORT_ENV},
        cwd=package,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def package_runtime(extracted: Path) -> str:
    """The Python version the package's bytecode is for (the bench's default without any)."""
    for pyc in extracted.glob("__pycache__/*.pyc"):
        tag = pyc.name.split(".")[1]  # cpython-313
        return f"{tag[8]}.{tag[9:]}"
    return DEFAULT_RUNTIME


def package_architecture(extracted: Path) -> str:
    for wheel in extracted.glob("*.dist-info/WHEEL"):
        for line in wheel.read_text().splitlines():
            if line.startswith("Tag:") and line.endswith(("aarch64", "x86_64")):
                return "aarch64" if line.endswith("aarch64") else "x86_64"
    return "any"


def extract_all(folders: list[Path], scratch: Path) -> dict[str, tuple[Path, int, str]]:
    """label -> (read-only extracted folder, zip bytes, Python version) for every zip."""
    found: dict[str, tuple[Path, int, str]] = {}
    for number, folder in enumerate(folders):
        zips = sorted(folder.glob("*.zip"))
        if not zips:
            raise SystemExit(f"no zip in {folder}: run `python build.py build` first")
        for archive in zips:
            extracted = scratch / str(number) / archive.stem
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(extracted)
            subprocess.run(["chmod", "-R", "a-w", str(extracted)], check=True)
            runtime = package_runtime(extracted)
            label = (
                f"{folder.name} {archive.name.rsplit('-', 1)[0]} "
                f"py{runtime} {package_architecture(extracted)}"
            )
            found[label] = (extracted, archive.stat().st_size, runtime)
    return found


def timed_rounds(
    packages: dict[str, tuple[Path, int, str]], runtimes: dict[str, Path], rounds: int
) -> dict[str, list[float]]:
    """Per package and round: import app after import boto3, in the package's Python."""
    times: dict[str, list[float]] = {label: [] for label in packages}
    for _ in range(rounds):
        for label, (extracted, _size, version) in packages.items():
            times[label].append(import_seconds(extracted, runtimes[version], INTERPRETERS[version]))
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--packages", type=Path, action="append")
    args = parser.parse_args(argv)
    folders = args.packages or [ROOT / "dist" / "packages"]
    with tempfile.TemporaryDirectory() as scratch:
        packages = extract_all(folders, Path(scratch))
        runnable = {k: v for k, v in packages.items() if v[2] in INTERPRETERS}
        runtimes = {}
        for version in sorted({v[2] for v in runnable.values()}):
            runtimes[version] = runtime_dir(
                _fresh(Path(scratch) / f"rt{version}"), INTERPRETERS[version]
            )
        times = timed_rounds(runnable, runtimes, args.rounds)
        _chmod_back(Path(scratch))
    print("import app after import boto3, CPU ms, read-only package, PYTHONDONTWRITEBYTECODE=1")
    print("| package | zip bytes | min | median | goal <= 60 |")
    print("|---|---|---|---|---|")
    for label, (_extracted, size, _version) in runnable.items():
        low, middle = min(times[label]) * 1000, statistics.median(times[label]) * 1000
        verdict = "yes" if middle <= GOAL_MS else "no"
        print(f"| {label} | {size:,} | {low:.0f} | {middle:.0f} | {verdict} |")
    for label in sorted(set(packages) - set(runnable)):
        print(f"| {label} | not measured: no Python {packages[label][2]} here | | | |")


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


def _chmod_back(scratch: Path) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(scratch)], check=True)


if __name__ == "__main__":
    main()
