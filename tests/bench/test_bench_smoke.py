"""Every benchmark in bench/ runs end to end at a tiny size, so none of them rots.

Only that each one finishes and prints its table: timings are never asserted (bench/ measures
ratios; docs/benchmarks.md records them with the commands).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from products.packaging import ROOT, build_handler_zip

BENCH = ROOT / "bench"
TOOLS = ("alert_handler", "auto_healer", "health_checker", "log_processor")
TINY_ARGS = {
    "alarm_eval_bench.py": ["--alarms", "5", "--minutes", "30", "--repeats", "1"],
    "health_checker_bench.py": ["--targets", "2", "--delay", "0.01", "--runs", "1"],
    "localcloud_invoke_bench.py": ["--warm", "1", "--cold", "1", "--runs", "1"],
    "log_processor_bench.py": ["--events", "50", "200", "--rounds", "1"],
    "build_bench.py": ["--products", "4", "--rounds", "1"],
    "publish_reads_bench.py": ["--products", "2"],
    "publish_check_bench.py": ["--repeat", "1"],
}


def _run(script: str, args: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, f"{script}: {result.stderr[-2000:]}"
    return result.stdout


def test_every_benchmark_has_a_smoke_run() -> None:
    scripts = {path.name for path in BENCH.glob("*_bench.py")}
    assert scripts == set(TINY_ARGS) | {"handler_cold_start_bench.py"}


@pytest.mark.parametrize("script", sorted(TINY_ARGS))
def test_benchmark_runs_at_a_tiny_size(script: str) -> None:
    assert _run(script, TINY_ARGS[script]).strip()


def test_cold_start_benchmark_runs_on_fresh_packages(tmp_path: Path) -> None:
    for tool in TOOLS:
        build_handler_zip(tool, tmp_path)
    output = _run("handler_cold_start_bench.py", ["--rounds", "1", "--packages", str(tmp_path)])
    assert all(tool in output for tool in TOOLS)
