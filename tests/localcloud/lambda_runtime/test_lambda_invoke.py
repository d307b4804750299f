"""Invoke runs the function's deployed code in a worker subprocess (RequestResponse, DryRun)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.lambda_runtime.functions import invoke_json

ECHO = """
import os
SHOWN = ("AWS_", "_X_", "GREETING", "_HANDLER")
def handler(event, context):
    return {
        "event": event,
        "pid": os.getpid(),
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(SHOWN)},
    }
"""


def test_request_response_runs_the_deployed_code_with_a_real_context(
    aws: Callable[[str], Any], create_function: Callable[..., str], local_endpoint: str
) -> None:
    create_function(
        "echo", ECHO, MemorySize=256, Timeout=7, Environment={"Variables": {"GREETING": "hi"}}
    )

    answer = invoke_json(aws, "echo", {"n": 1})

    body = answer["Body"]
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert body["event"] == {"n": 1}
    assert body["function_name"] == "echo"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:echo"
    assert body["memory_limit_in_mb"] == 256
    assert body["aws_request_id"] == answer["ResponseMetadata"]["RequestId"]
    assert body["log_group_name"] == "/aws/lambda/echo"
    assert body["log_stream_name"].endswith("]" + body["log_stream_name"].split("]")[-1])
    assert 0 < body["remaining"] <= 7000
    env = body["env"]
    assert env["GREETING"] == "hi"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "echo"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/echo"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == body["log_stream_name"]
    assert env["AWS_ENDPOINT_URL"] == local_endpoint
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["_HANDLER"] == "app.handler"


def test_a_warm_worker_is_reused_and_a_configuration_change_replaces_it(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("warm", ECHO)
    first = invoke_json(aws, "warm")["Body"]["pid"]
    second = invoke_json(aws, "warm")["Body"]["pid"]
    aws("lambda").update_function_configuration(
        FunctionName="warm", Environment={"Variables": {"GREETING": "changed"}}
    )
    third = invoke_json(aws, "warm")["Body"]

    assert first == second
    assert third["pid"] != second
    assert third["env"]["GREETING"] == "changed"


def test_new_code_replaces_the_worker(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    from tests.localcloud.lambda_runtime.functions import zipped

    create_function("recode", "def handler(event, context):\n    return 'old'\n")
    assert invoke_json(aws, "recode")["Body"] == "old"
    aws("lambda").update_function_code(
        FunctionName="recode",
        ZipFile=zipped({"app.py": "def handler(event, context):\n    return 'new'\n"}),
    )
    assert invoke_json(aws, "recode")["Body"] == "new"


def test_an_exception_is_an_unhandled_function_error_as_lambda_shapes_it(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    source = "def handler(event, context):\n    raise ValueError('boom ' + event['x'])\n"
    create_function("fails", source)

    answer = invoke_json(aws, "fails", {"x": "42"}, LogType="Tail")

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    body = answer["Body"]
    assert body["errorMessage"] == "boom 42"
    assert body["errorType"] == "ValueError"
    assert body["requestId"] == answer["ResponseMetadata"]["RequestId"]
    assert any("raise ValueError" in line for line in body["stackTrace"])
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "[ERROR] ValueError: boom 42" in tail


def test_an_import_failure_is_runtime_import_module_error(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("broken", "import not_a_module_anywhere\n")

    answer = invoke_json(aws, "broken")

    assert answer["FunctionError"] == "Unhandled"
    assert answer["Body"]["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'app'" in answer["Body"]["errorMessage"]
    assert "not_a_module_anywhere" in answer["Body"]["errorMessage"]


def test_a_missing_handler_function_is_runtime_handler_not_found(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("nohandler", "x = 1\n")

    answer = invoke_json(aws, "nohandler")

    assert answer["Body"]["errorType"] == "Runtime.HandlerNotFound"


def test_a_hanging_handler_is_killed_at_its_timeout(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    source = """
import os
def handler(event, context):
    if event.get("hang"):
        print("about to hang")
        while True:
            pass
    return os.getpid()
"""
    create_function("hangs", source, Timeout=1)
    pid_before = invoke_json(aws, "hangs")["Body"]

    answer = invoke_json(aws, "hangs", {"hang": True}, LogType="Tail")

    assert answer["FunctionError"] == "Unhandled"
    assert answer["Body"]["errorMessage"].endswith("Task timed out after 1.00 seconds")
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in tail
    assert tail.rstrip().endswith("Status: timeout")
    assert "about to hang" in tail  # written before the kill, kept as on Lambda
    assert invoke_json(aws, "hangs")["Body"] != pid_before  # a fresh environment


def test_log_type_tail_returns_start_end_report_and_output(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    source = "def handler(event, context):\n    print('hello from the handler')\n    return 1\n"
    create_function("tail", source, MemorySize=512)

    cold = base64.b64decode(invoke_json(aws, "tail", LogType="Tail")["LogResult"]).decode()
    warm_answer = invoke_json(aws, "tail", LogType="Tail")
    warm = base64.b64decode(warm_answer["LogResult"]).decode()
    untailed = invoke_json(aws, "tail")

    request_id = warm_answer["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in warm
    assert "hello from the handler" in warm
    assert f"END RequestId: {request_id}" in warm
    report = next(line for line in warm.splitlines() if line.startswith("REPORT"))
    assert "Duration: " in report and "Billed Duration: " in report
    assert "Memory Size: 512 MB" in report and "Max Memory Used: " in report
    assert "Init Duration" not in report
    used = int(report.split("Max Memory Used: ")[1].split(" MB")[0])
    assert 0 < used < 100  # the worker's own peak, not the server process's
    assert "Init Duration: " in cold
    assert "LogResult" not in untailed


def test_dry_run_runs_nothing(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("dry", "def handler(event, context):\n    raise RuntimeError('ran')\n")

    answer = aws("lambda").invoke(FunctionName="dry", InvocationType="DryRun")

    assert answer["StatusCode"] == 204
    assert "FunctionError" not in answer


def test_another_runtime_is_a_clear_invalid_runtime_error(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function(
        "node",
        "",
        handler="index.handler",
        Runtime="nodejs20.x",
        files={"index.js": "exports.handler = async () => 1;"},
    )

    with pytest.raises(ClientError) as raised:
        aws("lambda").invoke(FunctionName="node", Payload=b"{}")

    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidRuntimeException"
    assert "nodejs20.x" in error["Message"]


def test_a_payload_that_is_not_json_is_rejected(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("strict", "def handler(event, context):\n    return event\n")

    with pytest.raises(ClientError) as raised:
        aws("lambda").invoke(FunctionName="strict", Payload=b"not json")

    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_the_function_calls_localcloud_through_its_sdk(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    source = (
        "import boto3\n"
        "def handler(event, context):\n"
        "    boto3.client('sqs').create_queue(QueueName=event['queue'])\n"
        "    return 'ok'\n"
    )
    create_function("sdk", source)

    assert invoke_json(aws, "sdk", {"queue": "made-by-the-function"})["Body"] == "ok"

    urls = aws("sqs").list_queues()["QueueUrls"]
    assert any(url.endswith("/made-by-the-function") for url in urls)


def test_a_worker_that_exits_is_runtime_exit_error_and_is_replaced(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    source = (
        "import os\n"
        "def handler(event, context):\n"
        "    if event.get('exit'):\n"
        "        os._exit(3)\n"
        "    return 'alive'\n"
    )
    create_function("exits", source)

    answer = invoke_json(aws, "exits", {"exit": True})

    assert answer["FunctionError"] == "Unhandled"
    assert answer["Body"]["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in answer["Body"]["errorMessage"]
    assert invoke_json(aws, "exits")["Body"] == "alive"


def test_a_result_that_is_not_json_is_runtime_marshal_error(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("marshal", "def handler(event, context):\n    return {1, 2}\n")

    answer = invoke_json(aws, "marshal")

    assert answer["FunctionError"] == "Unhandled"
    assert answer["Body"]["errorType"] == "Runtime.MarshalError"
    assert "not JSON serializable" in answer["Body"]["errorMessage"]


def test_deleting_a_function_stops_its_warm_worker(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    import os

    create_function("doomed", "import os\ndef handler(event, context):\n    return os.getpid()\n")
    pid = invoke_json(aws, "doomed")["Body"]
    os.kill(pid, 0)  # alive and warm

    aws("lambda").delete_function(FunctionName="doomed")

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_handler_reading_stdin_or_writing_fd_1_cannot_disturb_the_worker(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    source = (
        "import os, sys\n"
        "def handler(event, context):\n"
        "    os.write(1, b'raw bytes on fd 1\\n')\n"
        "    return sys.stdin.read()\n"
    )
    create_function("greedy", source)

    first = invoke_json(aws, "greedy")
    second = invoke_json(aws, "greedy")

    assert (first["Body"], second["Body"]) == ("", "")
    assert "FunctionError" not in second
