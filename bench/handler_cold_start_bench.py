"""Cold start of each packaged handler: zip size, and the import time of its app module.

Run after `python build.py build`: every zip in dist/packages is extracted to a temporary folder
and `import app` is timed in fresh `python -S` interpreters that see only the zip and the
libraries the Lambda runtime ships (as tests/handlers/conftest.py runs packaged handlers). The
baseline is the same fresh interpreter importing boto3 alone, which every Lambda pays anyway.

    .venv/bin/python bench/handler_cold_start_bench.py [--repeats 15] [--packages dist/packages]
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
TIMER = (
    "import time\nstarted = time.perf_counter()\nimport {module}\n"
    "print(time.perf_counter() - started)"
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


def median_import(module: str, path: list[Path], cwd: Path, repeats: int) -> float:
    return statistics.median(import_seconds(module, path, cwd) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--packages", type=Path, default=ROOT / "dist" / "packages")
    args = parser.parse_args()
    zips = sorted(args.packages.glob("*.zip"))
    if not zips:
        raise SystemExit(f"no zip in {args.packages}: run `python build.py build` first")
    with tempfile.TemporaryDirectory() as scratch:
        runtime = Path(scratch) / "runtime"
        runtime.mkdir()
        runtime_dir(runtime)
        baseline = median_import("boto3", [runtime], Path(scratch), args.repeats)
        print(f"baseline: import boto3 in a fresh interpreter: {baseline * 1000:.0f} ms = 1.00")
        print("| tool | zip bytes | import app (ms) | x baseline |")
        print("|---|---|---|---|")
        for archive in zips:
            tool = archive.name.rsplit("-", 1)[0]
            extracted = Path(scratch) / tool
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(extracted)
            seconds = median_import("app", [extracted, runtime], extracted, args.repeats)
            size = archive.stat().st_size
            print(f"| {tool} | {size:,} | {seconds * 1000:.0f} | {seconds / baseline:.2f} |")


if __name__ == "__main__":
    main()
