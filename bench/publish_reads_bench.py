"""Benchmark: how many API calls does a publish that changes nothing make? (issue 12)

For P = 4, 40 and 100 synthetic products (each with a LAUNCH and one TEMPLATE constraint, as
the real tools have), the catalog is published once into an in-process LocalCloud on 127.0.0.1,
then published again with nothing to change: plan, show, summary, exactly what
`build.py publish` does. The calls of that second publish are counted as botocore sends them
(one per request, one per page of a listing), not timed. Goal: 0 writes and at most 2·P + 6
reads, growing linearly in P.

    .venv/bin/python bench/publish_reads_bench.py [--products 4 40 100]
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localcloud import LocalCloud  # noqa: E402
from portfolio import apply  # noqa: E402
from portfolio.aws import AwsClients, CallRecorder, Target  # noqa: E402
from portfolio.workflow import run_publish, run_publish_and_summarize  # noqa: E402
from tests.portfolio.conftest import PORTFOLIO, Harness  # noqa: E402
from tests.portfolio.test_publish_reads_local import synthetic_catalog, tools  # noqa: E402


def noop_publish_calls(cloud: LocalCloud, products: int) -> CallRecorder:
    cloud.reset()
    with tempfile.TemporaryDirectory() as root:
        harness = Harness(cloud.endpoint_url, Path(root), copy.deepcopy(PORTFOLIO))
        built = synthetic_catalog(Path(root), harness.portfolio, tools(products))
        run_publish(harness.clients(), built, lambda change: None)
        recorder = CallRecorder()
        clients = AwsClients(Target(endpoint_url=cloud.endpoint_url), (recorder,))
        run_publish_and_summarize(clients, built, lambda plan: True, lambda change: None)
    return recorder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[4, 40, 100])
    args = parser.parse_args()
    apply.CREATED_VISIBLE_WITHIN_SECONDS = 1.0  # as in the tests: localcloud is consistent
    print("| P | reads | writes | goal 2·P + 6 | reads ÷ P | reads by operation |")
    print("|---|---|---|---|---|---|")
    with LocalCloud() as cloud:
        for products in args.products:
            calls = noop_publish_calls(cloud, products)
            reads = len(calls.reads)
            by_operation = ", ".join(f"{n} {op}" for op, n in sorted(Counter(calls.reads).items()))
            print(
                f"| {products} | {reads} | {len(calls.writes)} | {2 * products + 6} "
                f"| {reads / products:.2f} | {by_operation} |"
            )


if __name__ == "__main__":
    main()
