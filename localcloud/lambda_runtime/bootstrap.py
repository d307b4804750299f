"""The worker side of a Lambda execution environment: run as a script, stdlib only.

localcloud starts `python -I bootstrap.py` with the function's environment and its unzipped code
as the working directory. The worker imports the handler once (the init phase), then loops: one
JSON line per invocation on stdin, one JSON line per answer on the protocol pipe (the original
stdout). What the handler prints (stdout, stderr, logging) is captured per invocation and sent
back with the answer; the parent writes it to CloudWatch Logs. Kept free of localcloud imports so
a cold start costs little more than starting Python.
"""

import importlib
import io
import json
import logging
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO


class _Capture(io.TextIOBase):
    """Stands in for sys.stdout and sys.stderr: everything written is kept until collected."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def collect(self) -> str:
        text = "".join(self._parts)
        self._parts.clear()
        return text


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


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _serve(channel: TextIO, capture: _Capture, request_ids: _RequestIdFilter) -> None:
    started = time.perf_counter()
    try:
        handler = _load_handler()
    except _InitError as failure:
        logs = capture.collect() + _error_log(failure.error) + "\n"
        _send(channel, {"init_error": failure.error, "logs": logs})
        return
    init_ms = (time.perf_counter() - started) * 1000
    _send(channel, {"init_ms": init_ms, "logs": capture.collect()})
    for line in sys.stdin:
        request = json.loads(line)
        request_ids.request_id = str(request["id"])
        answer = _invoke(handler, request)
        if "error" in answer:
            capture.write(_error_log(answer["error"], request_ids.request_id) + "\n")
        answer.update(logs=capture.collect(), max_memory_mb=_max_memory_mb())
        _send(channel, answer)


def _install_capture() -> tuple[TextIO, _Capture, _RequestIdFilter]:
    """Keep the protocol pipe private; fd 1 goes to stderr so child processes cannot corrupt it."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    capture = _Capture()
    sys.stdout = sys.stderr = capture
    request_ids = _RequestIdFilter()
    root_handler = logging.StreamHandler(capture)
    root_handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    root_handler.addFilter(request_ids)
    logging.Formatter.converter = time.gmtime
    logging.getLogger().addHandler(root_handler)
    return channel, capture, request_ids


def main() -> None:
    sys.path.insert(0, str(Path.cwd()))
    channel, capture, request_ids = _install_capture()
    _serve(channel, capture, request_ids)


if __name__ == "__main__":
    main()
