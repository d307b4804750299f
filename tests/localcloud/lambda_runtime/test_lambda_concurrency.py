"""ReservedConcurrentExecutions: excess invocations are throttled; concurrency needs workers.

The handlers block on named pipes the test holds, so "two invocations at once" is arranged by
the operating system instead of by timing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.lambda_runtime.functions import invoke_json, metric_sum

BLOCKS = """
import os
def handler(event, context):
    with open(event["started"], "w") as started:
        started.write(str(os.getpid()))
    with open(event["release"]) as release:
        release.read()
    return os.getpid()
"""


class Blocked:
    """An invocation in another thread, held inside the handler until released."""

    def __init__(self, aws: Callable[[str], Any], name: str, folder: Path, index: int) -> None:
        self.started = folder / f"started-{index}"
        self.release = folder / f"release-{index}"
        os.mkfifo(self.started)
        os.mkfifo(self.release)
        event = {"started": str(self.started), "release": str(self.release)}
        self.answer: dict[str, Any] = {}
        self.thread = threading.Thread(
            target=lambda: self.answer.update(invoke_json(aws, name, event))
        )
        self.thread.start()

    def wait_running(self) -> int:
        """Blocks until the handler opened its pipe: it is running now; its pid."""
        with self.started.open() as started:
            return int(started.read())

    def finish(self) -> Any:
        with self.release.open("w") as release:
            release.write("go")
        self.thread.join()
        return self.answer["Body"]


def test_reserved_concurrency_zero_throttles_every_invocation(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("stopped", "def handler(event, context):\n    return 1\n")
    aws("lambda").put_function_concurrency(FunctionName="stopped", ReservedConcurrentExecutions=0)

    with pytest.raises(ClientError) as raised:
        aws("lambda").invoke(FunctionName="stopped", Payload=b"{}")

    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    dims = {"FunctionName": "stopped"}
    assert metric_sum(aws, "Throttles", dims, localcloud.now()) == 1
    assert metric_sum(aws, "Invocations", dims, localcloud.now()) == 0


def test_invocations_beyond_the_reserved_concurrency_are_throttled(
    aws: Callable[[str], Any], create_function: Callable[..., str], tmp_path: Path
) -> None:
    create_function("two-at-once", BLOCKS)
    aws("lambda").put_function_concurrency(
        FunctionName="two-at-once", ReservedConcurrentExecutions=2
    )
    first = Blocked(aws, "two-at-once", tmp_path, 1)
    second = Blocked(aws, "two-at-once", tmp_path, 2)
    pids = {first.wait_running(), second.wait_running()}

    with pytest.raises(ClientError) as raised:
        aws("lambda").invoke(FunctionName="two-at-once", Payload=json.dumps({}))

    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert {first.finish(), second.finish()} == pids
    assert len(pids) == 2  # two execution environments served the two invocations
