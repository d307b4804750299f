"""Benchmark: what the artifact check (portfolio/artifacts.py) costs a publish of the 4 tools.

The real build of the 4 products is made once into a temporary dist/. In the same process:
- baseline: the check publish made before (each artifact's sha256 against the hash in its key,
  one file read per artifact a product names);
- check: desired_catalog with the full check (template against the manifest's content hash,
  every package against its key and the template, each file hashed once);
- publish: the first publish of that build into an in-process LocalCloud on 127.0.0.1
  (bootstrap excluded), and a publish with nothing to change.
Each is the median of --repeat runs; the ratios are what to read, not the seconds.

    .venv/bin/python bench/publish_check_bench.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.config import load_config  # noqa: E402
from catalog.manifest import Manifest  # noqa: E402
from localcloud import LocalCloud  # noqa: E402
from portfolio import apply  # noqa: E402
from portfolio.aws import AwsClients, Target  # noqa: E402
from portfolio.desired import DesiredCatalog, desired_catalog  # noqa: E402
from portfolio.workflow import BuiltCatalog, run_bootstrap, run_publish  # noqa: E402
from products.build import build_all  # noqa: E402


def baseline_check(manifest: Manifest, dist: Path) -> int:
    """The former check: every file a product names hashed against its key, nothing more."""
    checked = 0
    for entry in manifest.products.values():
        files = [entry.template, entry.package, *entry.platform_packages.values()]
        for relative in files:
            hashlib.sha256((dist / relative).read_bytes()).hexdigest()
            checked += 1
    return checked


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def publish_seconds(built: BuiltCatalog) -> tuple[float, float]:
    with LocalCloud() as cloud:
        clients = AwsClients(Target(endpoint_url=cloud.endpoint_url))
        run_bootstrap(clients, built, lambda line: None)
        started = time.perf_counter()
        run_publish(clients, built, lambda change: None)
        first = time.perf_counter() - started
        started = time.perf_counter()
        run_publish(clients, built, lambda change: None)
        return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    apply.CREATED_VISIBLE_WITHIN_SECONDS = 1.0  # as in the tests: localcloud is consistent
    config = load_config(ROOT / "catalog.yaml")
    with tempfile.TemporaryDirectory() as root:
        dist = Path(root) / "dist"
        build_all(config, dist, check_versions=False)
        manifest = Manifest.load(dist)

        def check() -> DesiredCatalog:
            return desired_catalog(config.portfolio, manifest, dist)

        files = baseline_check(manifest, dist)
        size = sum(p.stat().st_size for p in dist.rglob("*") if p.is_file())
        baseline = median_seconds(lambda: baseline_check(manifest, dist), args.repeat)
        checked = median_seconds(check, args.repeat)
        first, noop = publish_seconds(BuiltCatalog(config, dist, manifest, check()))
    print(
        f"{len(manifest.products)} products, {files} artifact references, {size:,} bytes in dist/"
    )
    print("| step | median seconds | ratio to baseline check |")
    print("|---|---|---|")
    print(f"| baseline check (key hash only) | {baseline:.4f} | 1.00 |")
    print(f"| full check (desired_catalog) | {checked:.4f} | {checked / baseline:.2f} |")
    print("| publish | before (baseline check + publish) | after (full check + publish) |")
    print("|---|---|---|")
    for name, seconds in (("first publish", first), ("no-op publish", noop)):
        print(f"| {name} (localcloud) | {baseline + seconds:.3f} | {checked + seconds:.3f} |")


if __name__ == "__main__":
    main()
