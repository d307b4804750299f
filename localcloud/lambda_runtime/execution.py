"""One invocation of a function's deployed code: pick (or start) a worker, run, log, measure."""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..clock import CLOCK
from . import endpoint, workers
from .code import code_folder
from .emf import publish_embedded_metrics
from .errors import Throttled, UnsupportedRuntime, WorkerCrashed, WorkerTimedOut
from .logs import log_tail, new_log_stream_name, write_log_events
from .metrics import put_function_metrics
from .workers import EnvironmentSpec, FunctionWorkers, Worker

UNRESERVED_CONCURRENCY = 1000  # the default account quota stands in when none is reserved
INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit for on-demand functions
_PYTHON_RUNTIME = re.compile(r"^python3\.\d+$")


@dataclass(frozen=True)
class Invocation:
    function: Any  # moto's LambdaFunction (the version being invoked)
    qualifier: str | None
    payload: bytes
    request_id: str
    trace_id: str

    @property
    def invoked_arn(self) -> str:
        arn = str(self.function.function_arn).split(":function:")[0]
        name = f"{arn}:function:{self.function.function_name}"
        return f"{name}:{self.qualifier}" if self.qualifier else name


@dataclass
class Outcome:
    """What Invoke answers and what the async queue needs to decide on a retry."""

    request_id: str
    payload: bytes
    function_error: str | None
    log_records: list[str]
    executed_version: str
    duration_ms: float

    @property
    def log_tail(self) -> bytes:
        return log_tail(self.log_records)


def new_request_id() -> str:
    return str(uuid.uuid4())


def check_runtime(function: Any) -> None:
    runtime = function.run_time
    if not runtime or not _PYTHON_RUNTIME.match(str(runtime)):
        raise UnsupportedRuntime(
            f"function {function.function_name} has runtime {runtime}: localcloud runs only "
            "python3.x runtimes"
        )


_pools: dict[str, FunctionWorkers] = {}
_pools_lock = threading.Lock()


def environment_spec(function: Any) -> EnvironmentSpec:
    code_bytes = getattr(function, "code_bytes", b"") or b""
    code_sha = str(getattr(function, "code_sha_256", "") or "")
    return EnvironmentSpec(
        function_arn=str(function.function_arn),
        code_dir=code_folder(code_sha.replace("/", "_").replace("+", "-"), code_bytes),
        code_sha=code_sha,
        handler=str(function.handler or ""),
        runtime=str(function.run_time),
        memory_mb=int(function.memory_size),
        timeout_s=float(function.timeout),
        variables=tuple(sorted((str(k), str(v)) for k, v in function.environment_vars.items())),
        log_group=str(function.logs_group_name),
    )


def _pool_for(function: Any) -> FunctionWorkers:
    spec = environment_spec(function)
    key = f"{id(function)}:{spec.function_arn}"
    with _pools_lock:
        pool = _pools.get(key)
        if pool is not None and pool.spec == spec:
            return pool
        if pool is not None:
            pool.retire()  # code or configuration changed: new environments from now on
        pool = _pools[key] = FunctionWorkers(spec)
        return pool


def retire_function(function_arn: str) -> None:
    """Stop the workers of a deleted function (all its versions when the ARN is unqualified)."""
    with _pools_lock:
        keys = [
            key
            for key, pool in _pools.items()
            if pool.spec.function_arn == function_arn
            or pool.spec.function_arn.startswith(function_arn + ":")
        ]
        pools = [_pools.pop(key) for key in keys]
    for pool in pools:
        pool.retire()


def retire_all() -> None:
    """Stop every worker (a reset of the local cloud, or shutdown)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.retire()


def concurrency_limit(function: Any) -> int:
    reserved = function.reserved_concurrency
    return UNRESERVED_CONCURRENCY if reserved in (None, "") else int(reserved)


def worker_environment(function: Any, spec: EnvironmentSpec, log_stream: str) -> dict[str, str]:
    """The function's variables under Lambda's reserved ones (which a function cannot override)."""
    reserved = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": str(function.function_name),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_REGION": str(function.region),
        "AWS_DEFAULT_REGION": str(function.region),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint.endpoint_url(),
        # Never reach for the host's AWS configuration or the instance metadata address.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return {**dict(spec.variables), **reserved}


def invoke(invocation: Invocation) -> Outcome:
    """Run the invocation in a warm worker or a new one; raises Throttled when none may run."""
    function = invocation.function
    check_runtime(function)
    pool = _pool_for(function)
    limit = concurrency_limit(function)
    acquired = pool.acquire(limit)
    if acquired is None:
        put_function_metrics(function, invocation.qualifier, {"Throttles": (1, "Count")})
        raise Throttled(f"function {function.function_name} is at its concurrency {limit}")
    worker, active = acquired
    put_function_metrics(
        function, invocation.qualifier, {"ConcurrentExecutions": (active, "Count")}
    )
    if worker is not None and worker.process.poll() is not None:
        worker.kill()  # it died while idle; start a fresh one
        worker = None
    run = _Run(invocation, pool.spec, worker)
    try:
        outcome = run.execute()
    finally:
        pool.release(run.worker, run.reusable)
    _record(invocation, outcome, run.worker)
    return outcome


def _record(invocation: Invocation, outcome: Outcome, worker: Worker | None) -> None:
    function = invocation.function
    stream = worker.log_stream if worker is not None else new_log_stream_name(str(function.version))
    write_log_events(function, stream, outcome.log_records)
    put_function_metrics(
        function,
        invocation.qualifier,
        {
            "Invocations": (1, "Count"),
            "Errors": (1 if outcome.function_error else 0, "Count"),
            "Duration": (round(outcome.duration_ms, 2), "Milliseconds"),
        },
    )
    publish_embedded_metrics(function, outcome.log_records)


def _utc_stamp() -> str:
    return datetime.fromtimestamp(CLOCK.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Run:
    """The steps of one invocation, collecting log records as Lambda writes them."""

    def __init__(self, invocation: Invocation, spec: EnvironmentSpec, worker: Worker | None):
        self.invocation = invocation
        self.spec = spec
        self.worker = worker
        self.reusable = True
        self.records: list[str] = []
        self.init_ms: float | None = None
        self.max_memory_mb = 0
        self.status: str | None = None  # "timeout" ends the REPORT line as Lambda's does

    def execute(self) -> Outcome:
        started = time.perf_counter()
        request_id = self.invocation.request_id
        if self.worker is None:
            init_error = self._cold_start()
            if init_error is not None:
                return self._finish(started, init_error, "Unhandled")
        self.records.append(f"START RequestId: {request_id} Version: {self._version}")
        payload, function_error = self._call_worker()
        return self._finish(started, payload, function_error)

    @property
    def _version(self) -> str:
        return str(self.invocation.function.version)

    def _cold_start(self) -> bytes | None:
        """Start a worker and run its init phase; an init error's payload when it fails."""
        stream = new_log_stream_name(self._version)
        function = self.invocation.function
        environment = worker_environment(function, self.spec, stream)
        worker = self.worker = workers.start_worker(self.spec, environment, stream)
        try:
            answer = worker.receive(max(INIT_TIMEOUT_S, self.spec.timeout_s), self.records.append)
        except (WorkerTimedOut, WorkerCrashed) as failure:
            self.reusable = False
            return self._exit_error(failure)
        if "init_error" in answer:
            self.reusable = False
            error = {**answer["init_error"], "requestId": ""}
            self.records.append(
                f"START RequestId: {self.invocation.request_id} Version: {self._version}"
            )
            return json.dumps(error).encode()
        self.init_ms = float(answer["init_ms"])
        return None

    def _call_worker(self) -> tuple[bytes, str | None]:
        assert self.worker is not None
        invocation = self.invocation
        timeout_s = self.spec.timeout_s
        request = {
            "id": invocation.request_id,
            "event": invocation.payload.decode("utf-8"),
            "arn": invocation.invoked_arn,
            "trace": invocation.trace_id,
            "deadline_ms": int((time.time() + timeout_s) * 1000),
        }
        try:
            self.worker.send(request)
            answer = self.worker.receive(timeout_s, self.records.append)
        except WorkerTimedOut:
            return self._timed_out(), "Unhandled"
        except WorkerCrashed as failure:
            self.reusable = False
            return self._exit_error(failure), "Unhandled"
        self.max_memory_mb = int(answer.get("max_memory_mb", 0))
        if "error" in answer:
            error = {**answer["error"], "requestId": invocation.request_id}
            return json.dumps(error).encode(), "Unhandled"
        return str(answer["result"]).encode(), None

    def _timed_out(self) -> bytes:
        """Lambda stops the environment at the timeout and says so in the log and the answer."""
        self.reusable = False
        self.status = "timeout"
        if self.worker is not None:
            self.worker.kill()
        request_id = self.invocation.request_id
        seconds = f"{self.spec.timeout_s:.2f}"
        self.records.append(f"{_utc_stamp()} {request_id} Task timed out after {seconds} seconds")
        message = f"RequestId: {request_id} Error: Task timed out after {seconds} seconds"
        error = {"errorType": "Sandbox.Timedout", "errorMessage": message}
        return json.dumps(error).encode()

    def _exit_error(self, failure: Exception) -> bytes:
        detail = getattr(failure, "exit_detail", str(failure))
        if isinstance(failure, WorkerTimedOut):
            detail = "init phase timed out"
        request_id = self.invocation.request_id
        message = f"RequestId: {request_id} Error: Runtime exited with error: {detail}"
        tail = self.worker.stderr_tail() if self.worker is not None else ""
        self.records.extend(line for line in tail.splitlines() if line)
        self.records.append(f"{message}\nRuntime.ExitError")
        return json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode()

    def _finish(self, started: float, payload: bytes, function_error: str | None) -> Outcome:
        duration_ms = (time.perf_counter() - started) * 1000
        if self.init_ms is not None:
            duration_ms = max(duration_ms - self.init_ms, 0.0)
        self.records.append(f"END RequestId: {self.invocation.request_id}")
        self.records.append(self._report_line(duration_ms))
        return Outcome(
            self.invocation.request_id,
            payload,
            function_error,
            self.records,
            self._version,
            duration_ms,
        )

    def _report_line(self, duration_ms: float) -> str:
        parts = [
            f"REPORT RequestId: {self.invocation.request_id}",
            f"Duration: {duration_ms:.2f} ms",
            f"Billed Duration: {max(math.ceil(duration_ms), 1)} ms",
            f"Memory Size: {self.spec.memory_mb} MB",
            f"Max Memory Used: {self.max_memory_mb} MB",
        ]
        if self.init_ms is not None:
            parts.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.status:
            parts.append(f"Status: {self.status}")
        return "\t".join(parts)
