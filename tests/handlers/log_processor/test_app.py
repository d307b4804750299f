"""log_processor end to end against moto: CloudWatch Logs batches, S3 objects, one SNS alert."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from oncall_shared.errors import BadEventError

from tests.handlers.conftest import CountdownContext

ORDERS_LINK_PART = (
    "log-group/$252Faws$252Flambda$252Forders/log-events/"
    "2026$252F11$252F28$252F$255B$2524LATEST$255D"
)


def test_errors_batch_sends_one_alert_summarising_every_crossed_rule(
    processor, log_stack, lambda_context, event
):
    result = processor.lambda_handler(event("logs_subscription_lambda_errors"), lambda_context)

    assert result["counts"] == {"errors": 6, "exceptions": 1, "timeouts": 2, "out_of_memory": 0}
    assert result["lines"] == 11 and result["alerted"] is True
    [alert] = log_stack.alerts()
    assert alert["Subject"] == "[ERROR] prod: timeouts, exceptions, errors in /aws/lambda/orders"
    body = alert["Message"]
    assert "timeouts (error): 2 lines, threshold 1" in body
    assert "errors (warning): 6 lines, threshold 5" in body
    assert "Stream/object: 2026/11/28/[$LATEST]9f3c2b1a0d4e4f5a8b7c6d5e4f3a2b1c" in body
    assert ORDERS_LINK_PART in body
    assert (
        "| [ERROR] ConnectionError: HTTPSConnectionPool" in body
    )  # traceback folded into one line
    assert "out_of_memory" not in body


def test_below_threshold_counts_but_does_not_alert(
    processor, log_stack, lambda_context, event, capsys
):
    capsys.readouterr()

    result = processor.lambda_handler(event("logs_subscription_quiet"), lambda_context)

    assert result["counts"]["errors"] == 1 and result["alerted"] is False
    assert log_stack.alerts() == []
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [matches] = [item for item in emf if "RuleMatches" in item]
    assert (matches["LogGroup"], matches["Rule"], matches["RuleMatches"]) == (
        "/aws/lambda/orders",
        "errors",
        [1.0],
    )
    assert matches["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["LogGroup", "Rule", "service"]
    ]
    [lines] = [item for item in emf if "LinesScanned" in item]
    assert lines["LinesScanned"] == [4.0]


def test_control_message_is_acknowledged_and_skipped(processor, log_stack, lambda_context, event):
    result = processor.lambda_handler(event("logs_control_message"), lambda_context)

    assert result == {"kind": "control", "alerted": False}
    assert log_stack.alerts() == []


@pytest.mark.parametrize("how", ["OWN_LOG_GROUP", "AWS_LAMBDA_FUNCTION_NAME"])
def test_never_alerts_on_its_own_log_group(
    log_stack, load_handler, lambda_context, event, monkeypatch, how
):
    monkeypatch.delenv("OWN_LOG_GROUP")
    if how == "OWN_LOG_GROUP":
        monkeypatch.setenv("OWN_LOG_GROUP", "/aws/lambda/oncall-log-processor-prod")
    else:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "oncall-log-processor-prod")
    app = load_handler("log_processor")

    result = app.lambda_handler(event("logs_subscription_own_group"), lambda_context)

    assert result == {"kind": "own_log_group", "alerted": False}
    assert log_stack.alerts() == []


def test_s3_notification_gzip_object_with_encoded_key(processor, log_stack, lambda_context, event):
    key = "web tier/2026/11/28/app server+1.log.gz"  # sent as web+tier/.../app+server%2B1.log.gz
    log_stack.put_object(
        key, "INFO up\njava.lang.OutOfMemoryError: Java heap space\nINFO ok\n", gzipped=True
    )

    result = processor.lambda_handler(event("s3_notification_object_created"), lambda_context)

    assert result["kind"] == "s3" and result["lines"] == 3
    assert result["counts"]["out_of_memory"] == 1
    [alert] = log_stack.alerts()
    assert alert["Subject"] == "[CRITICAL] prod: out_of_memory, exceptions in s3://oncall-app-logs"
    assert f"Stream/object: {key}" in alert["Message"]
    assert "prefix=web%20tier%2F2026%2F11%2F28%2Fapp%20server%2B1.log.gz" in alert["Message"]


def test_eventbridge_object_created_plain_text(processor, log_stack, lambda_context, event):
    log_stack.put_object(
        "batch/2026-11-28/worker 7.log", "ok\nTask timed out after 900.00 seconds\n"
    )

    result = processor.lambda_handler(event("s3_eventbridge_object_created"), lambda_context)

    assert result["counts"]["timeouts"] == 1 and result["alerted"]


def test_key_that_was_not_encoded_is_still_found(processor, log_stack, lambda_context, event):
    log_stack.put_object("batch/2026-11-28/worker+7.log", "FATAL disk full\n")

    result = processor.lambda_handler(event("s3_eventbridge_object_created"), lambda_context)

    assert result["counts"]["errors"] == 1


def test_threshold_counts_across_the_whole_invocation(processor, log_stack, lambda_context, event):
    payload = event("s3_notification_object_created")
    second = json.loads(json.dumps(payload["Records"][0]))
    second["s3"]["object"]["key"] = "web+tier/other.log"
    payload["Records"].append(second)
    three_errors = "ERROR a\nERROR b\nERROR c\n"
    log_stack.put_object("web tier/2026/11/28/app server+1.log.gz", three_errors, gzipped=True)
    log_stack.put_object("web tier/other.log", three_errors)

    result = processor.lambda_handler(payload, lambda_context)

    assert result["counts"]["errors"] == 6
    [alert] = log_stack.alerts()
    assert alert["Subject"] == "[WARNING] prod: errors in 2 sources"


def test_user_rules_inline_extend_the_defaults(
    log_stack, load_handler, lambda_context, event, monkeypatch
):
    monkeypatch.setenv(
        "RULES", '[{"name": "card-declined", "pattern": "card declined", "severity": "critical"}]'
    )
    app = load_handler("log_processor")

    result = app.lambda_handler(event("logs_subscription_quiet"), lambda_context)

    assert result["counts"]["card-declined"] == 1 and result["counts"]["errors"] == 1
    [alert] = log_stack.alerts()
    assert alert["Subject"].startswith("[CRITICAL] prod: card-declined in /aws/lambda/orders")


def test_rules_from_ssm_parameter(log_stack, load_handler, lambda_context, event, monkeypatch):
    rules = {
        "include_defaults": False,
        "rules": [{"name": "gateway", "pattern": r"gateway returned 5\d\d", "threshold": 3}],
    }
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/oncall/log-rules", Value=json.dumps(rules), Type="SecureString"
    )
    monkeypatch.setenv("RULES_SSM_PARAMETER", "/oncall/log-rules")
    app = load_handler("log_processor")

    result = app.lambda_handler(event("logs_subscription_lambda_errors"), lambda_context)

    assert result["counts"] == {"gateway": 3}
    [alert] = log_stack.alerts()
    assert alert["Subject"] == "[WARNING] prod: gateway in /aws/lambda/orders"


@pytest.mark.parametrize(("max_age", "counted"), [(300, {"gateway": 3}), (0, {"oom": 0})])
def test_edited_ssm_rules_apply_once_the_cached_value_expires(
    log_stack, load_handler, lambda_context, event, monkeypatch, max_age, counted
):
    from oncall_shared import parameters

    monkeypatch.setattr(parameters, "PARAMETER_MAX_AGE_SECONDS", max_age)
    ssm = boto3.client("ssm", region_name="us-east-1")

    def put(name: str, pattern: str) -> None:
        rules = {"include_defaults": False, "rules": [{"name": name, "pattern": pattern}]}
        ssm.put_parameter(
            Name="/oncall/log-rules", Value=json.dumps(rules), Type="String", Overwrite=True
        )

    put("gateway", r"gateway returned 5\d\d")
    monkeypatch.setenv("RULES_SSM_PARAMETER", "/oncall/log-rules")
    app = load_handler("log_processor")
    app.lambda_handler(event("logs_subscription_lambda_errors"), lambda_context)
    put("oom", "OOMKilled")  # no redeploy, no new container

    result = app.lambda_handler(event("logs_subscription_lambda_errors"), lambda_context)

    assert result["counts"] == counted


def test_sample_lines_setting_limits_samples(
    log_stack, load_handler, lambda_context, event, monkeypatch
):
    monkeypatch.setenv("SAMPLE_LINES", "2")
    app = load_handler("log_processor")

    app.lambda_handler(event("logs_subscription_lambda_errors"), lambda_context)

    [alert] = log_stack.alerts()
    rows = alert["Message"].split("errors: 6 matching lines; samples:")[1].splitlines()[1:]
    samples = [row for row in rows[:3] if row.startswith("    | ")]
    assert len(samples) == 2 and not rows[2].startswith("    | ")


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        (
            "RULES",
            '[{"name": "x", "pattern": "("}]',
            "RULES\\[0\\].pattern='\\(': invalid regular expression",
        ),
        ("RULES", '[{"name": "bad name!", "pattern": "x"}]', "RULES\\[0\\].name='bad name!'"),
        ("RULES", '[{"name": "x", "pattern": "x", "threshold": 0}]', "RULES\\[0\\].threshold=0"),
        (
            "RULES",
            '[{"name": "x", "pattern": "x", "sevrity": "info"}]',
            "unknown key\\(s\\) \\['sevrity'\\]",
        ),
        ("RULES", '{"include_defaults": false, "rules": []}', "no rules left"),
        ("RULES", "not json", "RULES='not json': is not valid JSON"),
        ("SAMPLE_LINES", "many", "SAMPLE_LINES='many': is not an integer"),
        (
            "RULES_SSM_PARAMETER",
            "/missing/param",
            "RULES_SSM_PARAMETER='/missing/param': SSM parameter does not exist",
        ),
    ],
)
def test_bad_settings_fail_the_invocation_naming_variable_and_value(
    log_stack, load_handler, lambda_context, event, monkeypatch, capsys, env, value, message
):
    from oncall_shared.errors import SettingsError

    app = load_handler("log_processor")
    monkeypatch.setenv(env, value)
    capsys.readouterr()
    with pytest.raises(SettingsError, match=message):
        app.lambda_handler(event("logs_subscription_lambda_errors"), lambda_context)
    assert log_stack.alerts() == []
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["RunsFailed"] for m in emf if "RunsFailed" in m] == [[1.0]]


def test_missing_topic_fails_the_invocation(
    log_stack, load_handler, lambda_context, event, monkeypatch
):
    from oncall_shared.errors import SettingsError

    app = load_handler("log_processor")
    monkeypatch.delenv("ALERT_TOPIC_ARN")
    with pytest.raises(SettingsError, match="ALERT_TOPIC_ARN=''"):
        app.lambda_handler(event("logs_subscription_lambda_errors"), lambda_context)


def test_missing_metrics_namespace_fails_at_cold_start(log_stack, load_handler, monkeypatch):
    from oncall_shared.errors import SettingsError

    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    with pytest.raises(SettingsError, match="POWERTOOLS_METRICS_NAMESPACE=''"):
        load_handler("log_processor")


def _bad_s3(event: Any, change: str) -> dict[str, Any]:
    payload = event("s3_notification_object_created")
    record = payload["Records"][0]
    if change == "removed":
        record["eventName"] = "ObjectRemoved:Delete"
    elif change == "no bucket":
        del record["s3"]["bucket"]["name"]
    return payload


MALFORMED = {
    "bad base64": (lambda event: event("logs_bad_base64"), "awslogs.data is not valid base64"),
    "not gzip": (lambda event: event("logs_not_gzip"), "awslogs.data is not gzip data"),
    "no data": (lambda event: {"awslogs": {}}, "awslogs.data is missing"),
    "unknown shape": (
        lambda event: {"detail-type": "Scheduled Event"},
        "is not a CloudWatch Logs subscription",
    ),
    "s3 removed": (lambda event: _bad_s3(event, "removed"), "eventName='ObjectRemoved:Delete'"),
    "s3 no bucket": (
        lambda event: _bad_s3(event, "no bucket"),
        "Records\\[0\\].s3.bucket field 'name'",
    ),
    "missing object": (
        lambda event: event("s3_eventbridge_object_created"),
        "worker 7.log does not exist",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_events_raise_bad_event_and_send_nothing(
    processor, log_stack, lambda_context, event, case
):
    build, message = MALFORMED[case]
    with pytest.raises(BadEventError, match=message):
        processor.lambda_handler(build(event), lambda_context)
    assert log_stack.alerts() == []


def test_corrupt_gzip_object_is_a_bad_event(processor, log_stack, lambda_context, event):
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=log_stack.bucket,
        Key="web tier/2026/11/28/app server+1.log.gz",
        Body=b"\x1f\x8b\x08\x00garbage",
    )
    with pytest.raises(BadEventError, match="is not readable gzip"):
        processor.lambda_handler(event("s3_notification_object_created"), lambda_context)
    assert log_stack.alerts() == []


def test_huge_batch_alert_still_fits_sns(processor, log_stack, lambda_context, event):
    import base64
    import gzip

    line = "ERROR " + "x" * 5000
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/big",
        "logStream": "s",
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": str(i), "timestamp": 1, "message": line} for i in range(200)],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()

    result = processor.lambda_handler({"awslogs": {"data": data}}, lambda_context)

    assert result["counts"]["errors"] == 200
    [alert] = log_stack.alerts()
    assert len(alert["Message"].encode()) < 256 * 1024
    assert max(len(row) for row in alert["Message"].splitlines()) <= 510  # samples clipped to 500


def test_a_large_object_is_cut_short_when_time_runs_out_and_what_was_read_is_reported(
    processor, log_stack, event, capsys
):
    # About 3 MB: three 1 MB blocks. Time runs out after the second block (calls: the guard's
    # start, before opening, after block 1; the call after block 2 answers 1 s).
    errors = "ERROR payment declined\n" * 10
    filler = "INFO request served in 12 ms\n" * 110_000
    log_stack.put_object("batch/2026-11-28/worker 7.log", errors + filler)
    total_lines = 10 + 110_000

    result = processor.lambda_handler(
        event("s3_eventbridge_object_created"), CountdownContext(60_000, 60_000, 60_000, 1_000)
    )

    assert result["cut_short"] == 1
    assert 0 < result["lines"] < total_lines
    assert result["counts"]["errors"] == 10 and result["alerted"]
    [alert] = log_stack.alerts()
    assert "Scan cut short: the function's time ran out" in alert["Message"]
    assert f"Lines scanned: {result['lines']}" in alert["Message"]
    # The stack's ScansCutShort alarm watches exactly these dimensions (tests/products).
    [emf] = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if "ScansCutShort" in line and line.startswith('{"_aws"')
    ]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["FunctionName", "service"]]
    assert (emf["FunctionName"], emf["ScansCutShort"]) == ("oncall-test-function", [1.0])


def test_an_object_left_when_time_is_up_is_reported_without_being_opened(
    processor, log_stack, event
):
    payload = event("s3_notification_object_created")
    second = json.loads(json.dumps(payload["Records"][0]))
    second["s3"]["object"]["key"] = "web+tier/never-opened.log"  # not in S3: opening would fail
    payload["Records"].append(second)
    log_stack.put_object("web tier/2026/11/28/app server+1.log.gz", "ERROR x\n" * 6, gzipped=True)

    # Calls: the guard's start, before opening the first object, after its only block; the
    # call before opening the second answers 1 s.
    result = processor.lambda_handler(payload, CountdownContext(60_000, 60_000, 60_000, 1_000))

    assert result["cut_short"] == 1 and result["lines"] == 6
    [alert] = log_stack.alerts()
    assert "Stream/object: web tier/never-opened.log" in alert["Message"]
    assert alert["Message"].count("Scan cut short") == 1


def test_with_time_to_spare_nothing_is_cut_short(processor, log_stack, lambda_context, event):
    log_stack.put_object("batch/2026-11-28/worker 7.log", "INFO ok\n" * 300_000)  # 2.4 MB

    result = processor.lambda_handler(event("s3_eventbridge_object_created"), lambda_context)

    assert result["cut_short"] == 0 and result["lines"] == 300_000
