"""The worker side of a Lambda execution environment: run as a script, stdlib only.

localcloud starts `python -I bootstrap.py` with the function's environment and its unzipped code
as the working directory. The worker imports the handler once (the init phase), then loops: one
JSON line per invocation on stdin, JSON lines back on the protocol pipe (the original stdout):
`{"log": ...}` for each log event as the handler writes it (stdout, stderr, logging), then the
answer. The parent writes the events to CloudWatch Logs. Kept free of localcloud imports so
a cold start costs little more than starting Python.
"""

import importlib
import io
import json
import logging
import os
import resource
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, TextIO


class _Channel:
    """The answer pipe: one JSON message a line, from any thread of the handler."""

    def __init__(self, pipe: TextIO) -> None:
        self._pipe = pipe
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message) + "\n"
        with self._lock:
            self._pipe.write(line)
            self._pipe.flush()


class _Capture(io.TextIOBase):
    """Stands in for sys.stdout and sys.stderr: each log event goes to localcloud at once (so a
    handler killed at its timeout keeps what it wrote before).

    As in Lambda, each line written is one event, while one logging record (or the runtime's
    report of an unhandled error) is one event however many lines it has.
    """

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def add_record(self, text: str) -> None:
        self.flush_partial()
        self._emit(text.rstrip("\n"))

    def flush_partial(self) -> None:
        """A last line without its newline is an event of its own at the end of an invocation."""
        partial, self._partial = self._partial, ""
        self._emit(partial)

    def _emit(self, record: str) -> None:
        if record:
            self._channel.send({"log": record})


class _RecordHandler(logging.Handler):
    """The runtime's root logging handler: one formatted record, one log event."""

    def __init__(self, capture: _Capture) -> None:
        super().__init__()
        self.capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.capture.add_record(self.format(record))
        except Exception:  # logging must never break the handler
            self.handleError(record)


class _RequestIdFilter(logging.Filter):
    """Adds the current request id to records, as the Lambda Python runtime's log format has it."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


class LambdaContext:
    """The context object of the Lambda Python runtime (the attributes handlers read)."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = str(request["arn"])
        self.aws_request_id = str(request["id"])
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(request["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def _error(error_type: str, message: str, stack: list[str]) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack}


def _stack_of(error: BaseException) -> list[str]:
    # The runtime reports the frames below its own call into the handler.
    frames = traceback.extract_tb(error.__traceback__)[1:]
    return traceback.format_list(frames)


def _error_log(error: dict[str, Any], request_id: str = "") -> str:
    """The one log event the Python runtime writes for an unhandled error."""
    lines = "".join(error["stackTrace"])
    head = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
    return f"{head}\nTraceback (most recent call last):\n{lines}".rstrip("\n")


def _load_handler() -> Any:
    """Import the handler module (the init phase); raises a ready error dict on failure."""
    spec = os.environ.get("_HANDLER", "")
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        message = f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)"
        raise _InitError(_error("Runtime.MalformedHandlerName", message, []))
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as error:
        message = f"Unable to import module '{module_name}': {error}"
        raise _InitError(_error("Runtime.ImportModuleError", message, [])) from error
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        raise _InitError(_error("Runtime.HandlerNotFound", message, []))
    return handler


class _InitError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


def _max_memory_mb() -> int:
    """Peak resident memory of this process (VmHWM: ru_maxrss would include the parent's peak
    before exec on Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024 + 1
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024) + 1


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Run the handler once; the answer carries the result or the error as the runtime shapes it."""
    os.environ["_X_AMZN_TRACE_ID"] = str(request.get("trace") or "")
    try:
        event = json.loads(request["event"])
        result = handler(event, LambdaContext(request))
    except Exception as error:
        return {"error": _error(type(error).__name__, str(error), _stack_of(error))}
    try:
        return {"result": json.dumps(result)}
    except (TypeError, ValueError) as error:
        message = f"Unable to marshal response: {error}"
        return {"error": _error("Runtime.MarshalError", message, [])}


def _serve(
    requests: TextIO, channel: _Channel, capture: _Capture, request_ids: _RequestIdFilter
) -> None:
    started = time.perf_counter()
    try:
        handler = _load_handler()
    except _InitError as failure:
        capture.add_record(_error_log(failure.error))
        channel.send({"init_error": failure.error})
        return
    capture.flush_partial()
    channel.send({"init_ms": (time.perf_counter() - started) * 1000})
    for line in requests:
        request = json.loads(line)
        request_ids.request_id = str(request["id"])
        answer = _invoke(handler, request)
        if "error" in answer:
            capture.add_record(_error_log(answer["error"], request_ids.request_id))
        capture.flush_partial()
        answer["max_memory_mb"] = _max_memory_mb()
        channel.send(answer)


def _private_pipes() -> tuple[TextIO, _Channel]:
    """Keep the protocol pipes private: a handler (or a child process) reading stdin or writing
    to fd 1 must not eat or corrupt invocations; stdin becomes /dev/null, fd 1 goes to stderr."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: PTH123, SIM115 - lives as long as the worker
    return requests, _Channel(channel)


def _install_capture(channel: _Channel) -> tuple[_Capture, _RequestIdFilter]:
    """Output and logging of the handler go to the capture, one log event per line or record."""
    capture = _Capture(channel)
    sys.stdout = sys.stderr = capture
    request_ids = _RequestIdFilter()
    root_handler = _RecordHandler(capture)
    root_handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    root_handler.addFilter(request_ids)
    logging.Formatter.converter = time.gmtime
    logging.getLogger().addHandler(root_handler)
    return capture, request_ids


def main() -> None:
    sys.path.insert(0, str(Path.cwd()))
    requests, channel = _private_pipes()
    capture, request_ids = _install_capture(channel)
    _serve(requests, channel, capture, request_ids)


if __name__ == "__main__":
    main()
