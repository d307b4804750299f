"""Benchmark: do N health checks take as long as the slowest one, or as long as all of them?

Every target is a real HTTP server on 127.0.0.1 that answers after DELAY seconds. The baseline,
measured in the same process, is one check of one target (one DELAY plus overhead). Reported:
the concurrent run of N targets (run_checks, what the Lambda does) and a sequential loop over the
same targets, each as a ratio of the baseline. Concurrent should stay near 1x; sequential is ~Nx.

    .venv/bin/python bench/health_checker_bench.py [--targets 20] [--delay 0.2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "handlers" / "shared"), str(ROOT / "handlers" / "health_checker")]

from health_probes import check_http  # noqa: E402
from health_runner import HealthSettings, run_checks  # noqa: E402
from health_targets import HttpTarget, Target, parse_targets  # noqa: E402


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: with every target connecting at once, the rest
    # of the SYNs are dropped and retried a second later, and the bench would time the kernel.
    request_queue_size = 128
    daemon_threads = True


def slow_server(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def settings_for(targets: list[Target]) -> HealthSettings:
    return HealthSettings(
        targets=targets,
        state_table="bench",
        topic_arn="bench",
        environment="bench",
        failure_threshold=1,
        timeout_seconds=5.0,
        allow_private=True,
    )


def best_of(repeats: int, run: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    server = slow_server(args.delay)
    url = f"http://127.0.0.1:{server.server_address[1]}/health"
    raw = [{"name": f"t{i}", "type": "http", "url": url} for i in range(args.targets)]
    targets = parse_targets(raw, "bench")
    settings = settings_for(targets)
    http_targets = [target for target in targets if isinstance(target, HttpTarget)]

    single = best_of(args.repeats, lambda: check_http(http_targets[0], 5.0, True, {}))
    concurrent = best_of(args.repeats, lambda: run_checks(settings, {}, 30.0))
    sequential = best_of(1, lambda: [check_http(t, 5.0, True, {}) for t in http_targets])
    print(f"{args.targets} HTTP targets on 127.0.0.1, each answering after {args.delay:.2f} s")
    print(f"{'pass':34} {'seconds':>8} {'x baseline':>11}")
    for name, seconds in (
        ("baseline: one check of one target", single),
        (f"run_checks, {args.targets} targets (concurrent)", concurrent),
        (f"one after another, {args.targets} targets", sequential),
    ):
        print(f"{name:34} {seconds:8.3f} {seconds / single:11.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
