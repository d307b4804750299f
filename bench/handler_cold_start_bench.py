"""Cold start of each packaged handler: zip size, and the import time of its app module.

Run after `python build.py build`: every zip in dist/packages is extracted to a temporary folder
and `import app` is timed in fresh `python -S` interpreters that see only the zip and the
libraries the Lambda runtime ships (as tests/handlers/conftest.py runs packaged handlers). The
baseline is the same fresh interpreter importing boto3 alone, which every Lambda pays anyway.
Times are CPU seconds of the import (time.process_time in the child): wall time on a loaded
machine varies by half between runs, CPU time by a few percent.
Rounds are interleaved (baseline, then every zip, then again), so a busy machine slows all of
them alike; medians over the rounds. Give --packages twice to compare two builds.

    .venv/bin/python bench/handler_cold_start_bench.py [--rounds 15] [--packages dist/packages]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
TIMER = (
    "import time\nstarted = time.process_time()\nimport {module}\n"
    "print(time.process_time() - started)"
)


def runtime_dir(target: Path) -> Path:
    """A folder holding only what the Lambda Python runtime ships (links into this venv)."""
    for name in LAMBDA_RUNTIME_PACKAGES:
        module_file = Path(str(importlib.import_module(name).__file__))
        source = module_file.parent if module_file.name == "__init__.py" else module_file
        (target / source.name).symlink_to(source)
    return target


def import_seconds(module: str, path: list[Path], cwd: Path) -> float:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(map(str, path))}
    done = subprocess.run(
        [sys.executable, "-S", "-c", TIMER.format(module=module)],
        env={**env, **IMPORT_ENV},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def extract_all(folders: list[Path], scratch: Path) -> dict[str, tuple[Path, int]]:
    """label -> (extracted folder, zip bytes) for every zip of every folder."""
    found: dict[str, tuple[Path, int]] = {}
    for number, folder in enumerate(folders):
        zips = sorted(folder.glob("*.zip"))
        if not zips:
            raise SystemExit(f"no zip in {folder}: run `python build.py build` first")
        for archive in zips:
            label = f"{folder} {archive.name.rsplit('-', 1)[0]}"
            extracted = scratch / str(number) / archive.stem
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(extracted)
            found[label] = (extracted, archive.stat().st_size)
    return found


def timed_rounds(
    packages: dict[str, tuple[Path, int]], runtime: Path, rounds: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"baseline": [], **{label: [] for label in packages}}
    for _ in range(rounds):
        times["baseline"].append(import_seconds("boto3", [runtime], runtime))
        for label, (extracted, _size) in packages.items():
            times[label].append(import_seconds("app", [extracted, runtime], extracted))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--packages", type=Path, action="append")
    args = parser.parse_args()
    folders = args.packages or [ROOT / "dist" / "packages"]
    with tempfile.TemporaryDirectory() as scratch:
        runtime = Path(scratch) / "runtime"
        runtime.mkdir()
        runtime_dir(runtime)
        packages = extract_all(folders, Path(scratch))
        times = timed_rounds(packages, runtime, args.rounds)
    baseline = statistics.median(times["baseline"])
    print(f"baseline: import boto3 in a fresh interpreter: {baseline * 1000:.0f} ms CPU = 1.00")
    print("| package | zip bytes | import app (ms CPU) | x baseline |")
    print("|---|---|---|---|")
    for label, (_extracted, size) in packages.items():
        seconds = statistics.median(times[label])
        print(f"| {label} | {size:,} | {seconds * 1000:.0f} | {seconds / baseline:.2f} |")


if __name__ == "__main__":
    main()
