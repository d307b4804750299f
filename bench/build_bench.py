"""Benchmark: a warm `build` of many products, against the same build zipping every package again.

The catalog's 4 products plus clones (subclasses under new names, sharing the 4 handler folders,
as teams add variants of a tool) make --products products; the config gets an entry per clone.
Both builds run in this process with the dependency installs cached; "rezip" points the package
cache at an empty folder per round, which is what every build did before packages were cached.
Reported: seconds of the warm build (goal < 5 s at 40 products) and rezip / warm, min and median.

    .venv/bin/python bench/build_bench.py [--products 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.cli_context import DEFAULT_CONFIG  # noqa: E402
from catalog.config import CatalogConfig, load_config  # noqa: E402
from products import packaging  # noqa: E402
from products.build import build_all  # noqa: E402
from products.spec import discover_products  # noqa: E402


def config_with_clones(total: int) -> CatalogConfig:
    """The real config, and product classes, for TOTAL products (clones of the real ones)."""
    config = load_config(DEFAULT_CONFIG)
    originals = list(discover_products().values())
    entries = dict(config.products)
    for index in range(total - len(originals)):
        original = originals[index % len(originals)]
        name = f"{original.name}-variant-{index}"
        clone = type(f"Variant{index}", (type(original),), {"name": name})
        clone.__module__ = "products.tools.bench_variants"  # discovered like a real tool
        entries[name] = dict(config.products[original.name])
    return replace(config, products=entries)


def timed_build(config: CatalogConfig, out: Path) -> float:
    started = time.perf_counter()
    build_all(config, out, check_versions=False)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    config = config_with_clones(args.products)
    warm_cache = packaging.PACKAGE_CACHE
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "dist"
        timed_build(config, out)  # fills the package cache
        warm, rezip = [], []
        for round_index in range(args.rounds):
            packaging.PACKAGE_CACHE = warm_cache
            warm.append(timed_build(config, out))
            packaging.PACKAGE_CACHE = Path(scratch) / f"empty-cache-{round_index}"
            rezip.append(timed_build(config, out))
        packaging.PACKAGE_CACHE = warm_cache
    factors = [r / w for r, w in zip(rezip, warm, strict=True)]
    print(f"python {sys.version.split()[0]}, {args.products} products, rounds {args.rounds}")
    print("| measure | min | median |")
    print("|---|---|---|")
    print(f"| warm build, {args.products} products (s, goal < 5) | {min(warm):.2f} | "
          f"{statistics.median(warm):.2f} |")  # fmt: skip
    print(f"| rezip every package / warm | {min(factors):.2f} | {statistics.median(factors):.2f} |")


if __name__ == "__main__":
    main()
