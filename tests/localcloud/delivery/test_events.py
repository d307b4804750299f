"""EventBridge: the products' patterns, rule state, target input forms, SNS/SQS targets and
schedules driven by the clock."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.clock import CLOCK

Advance = Callable[[float], float]
GOLDEN = Path(__file__).parents[2] / "products" / "golden"


def _golden_pattern(product: str, rule: str) -> dict[str, Any]:
    template = json.loads((GOLDEN / f"{product}.json").read_text())
    pattern: dict[str, Any] = template["Resources"][rule]["Properties"]["EventPattern"]
    return pattern


def _alarm_event(namespace: str, state: str = "ALARM", name: str = "web-errors") -> dict[str, Any]:
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": state},
            "configuration": {
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {"namespace": namespace, "name": "CPUUtilization"},
                            "period": 60,
                            "stat": "Average",
                        },
                        "returnData": True,
                    }
                ]
            },
        },
    }


def _test(aws: Callable[..., Any], pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    envelope = {
        "id": "1",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
    }
    answer = aws("events").test_event_pattern(
        EventPattern=json.dumps(pattern), Event=json.dumps({**envelope, **event})
    )
    return bool(answer["Result"])


def test_the_auto_healer_pattern_looks_into_the_metrics_array(aws: Callable[..., Any]) -> None:
    pattern = _golden_pattern("auto-healer", "AlarmRule")
    assert _test(aws, pattern, _alarm_event("AWS/EC2"))
    assert not _test(aws, pattern, _alarm_event("AWS/Lambda"))
    assert not _test(aws, pattern, _alarm_event("AWS/EC2", state="OK"))


def test_the_alert_handler_prefix_pattern(aws: Callable[..., Any]) -> None:
    conditional = _golden_pattern("alert-handler", "AlarmStateChangeRule")["Fn::If"][1]
    pattern = json.loads(json.dumps(conditional).replace('{"Ref": "AlarmNamePrefix"}', '"web-"'))
    assert _test(aws, pattern, _alarm_event("AWS/EC2", name="web-errors"))
    assert not _test(aws, pattern, _alarm_event("AWS/EC2", name="db-errors"))


def test_the_log_processor_bucket_pattern(aws: Callable[..., Any]) -> None:
    raw = json.dumps(_golden_pattern("log-processor", "LogObjectCreatedRule"))
    pattern = json.loads(raw.replace('{"Ref": "LogBucketName"}', '"logs-bucket"'))
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "logs-bucket"}, "object": {"key": "a.gz"}},
    }
    assert _test(aws, pattern, event)
    event["detail"]["bucket"]["name"] = "other"
    assert not _test(aws, pattern, event)


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ({"a": [{"anything-but": ["x", "y"]}]}, {"a": "z"}, {"a": "x"}),
        ({"a": [{"anything-but": {"prefix": "tmp-"}}]}, {"a": "keep"}, {"a": "tmp-1"}),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 5}, {"a": 0}),
        ({"a": [{"numeric": [">=", 10]}]}, {"a": 10.5}, {"a": "11"}),
        ({"a": [{"exists": True}]}, {"a": "v"}, {"b": "v"}),
        ({"a": [{"exists": False}]}, {"b": 1}, {"a": 1}),
        ({"a": [{"prefix": "err"}]}, {"a": ["ok", "error"]}, {"a": ["ok"]}),
        ({"a": [{"suffix": ".gz"}]}, {"a": "x.gz"}, {"a": "x.txt"}),
        ({"a": [5]}, {"a": 5}, {"a": "5"}),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": "2"}, {"a": "2"}),
    ],
)
def test_pattern_operators(
    aws: Callable[..., Any],
    pattern: dict[str, Any],
    matching: dict[str, Any],
    not_matching: dict[str, Any],
) -> None:
    base = {"source": "s", "detail-type": "t", "detail": {}}
    assert _test(aws, {"detail": pattern}, {**base, "detail": matching})
    assert not _test(aws, {"detail": pattern}, {**base, "detail": not_matching})


def test_anything_but_does_not_match_a_missing_field(aws: Callable[..., Any]) -> None:
    pattern = {"detail": {"a": [{"anything-but": "x"}]}}
    assert not _test(aws, pattern, {"source": "s", "detail-type": "t", "detail": {}})


def test_test_event_pattern_needs_the_documented_fields(aws: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as caught:
        aws("events").test_event_pattern(
            EventPattern=json.dumps({"source": ["s"]}), Event=json.dumps({"source": "s"})
        )
    assert "missing id, account" in caught.value.response["Error"]["Message"]


def test_an_unsupported_operator_is_refused_at_put_rule(aws: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as caught:
        aws("events").put_rule(
            Name="r", EventPattern=json.dumps({"detail": {"a": [{"regex": "x+"}]}})
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidEventPatternException"
    assert "'regex' is not supported" in error["Message"]


# -- delivery -----------------------------------------------------------------------------


def _queue(aws: Callable[..., Any], name: str = "events-inbox") -> tuple[str, str]:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _bodies(aws: Callable[..., Any], url: str) -> list[Any]:
    messages = aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def _rule_to_queue(aws: Callable[..., Any], target: dict[str, Any] | None = None) -> str:
    url, arn = _queue(aws)
    events = aws("events")
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": arn, **(target or {})}])
    return url


def _put(aws: Callable[..., Any], detail: dict[str, Any]) -> None:
    aws("events").put_events(
        Entries=[{"Source": "shop", "DetailType": "Order", "Detail": json.dumps(detail)}]
    )


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_matching_event_reaches_an_sqs_target_whole(
    aws: Callable[..., Any], localcloud: Any
) -> None:
    url = _rule_to_queue(aws)
    _put(aws, {"order": 7})
    [event] = _bodies(aws, url)
    assert event["account"] == "123456789012"
    assert event["time"] == _iso(localcloud.now())
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "shop",
        "Order",
        {"order": 7},
    )
    assert "ingestion-time" not in event


def test_a_disabled_rule_delivers_nothing(aws: Callable[..., Any]) -> None:
    url = _rule_to_queue(aws)
    aws("events").disable_rule(Name="orders")
    _put(aws, {"order": 1})
    assert _bodies(aws, url) == []
    aws("events").enable_rule(Name="orders")
    _put(aws, {"order": 2})
    assert [e["detail"] for e in _bodies(aws, url)] == [{"order": 2}]


def test_input_replaces_the_event(aws: Callable[..., Any]) -> None:
    url = _rule_to_queue(aws, {"Input": '{"fixed": true}'})
    _put(aws, {"order": 1})
    assert _bodies(aws, url) == [{"fixed": True}]


def test_input_path_selects_part_of_the_event(aws: Callable[..., Any]) -> None:
    url = _rule_to_queue(aws, {"InputPath": "$.detail"})
    _put(aws, {"order": 3})
    assert _bodies(aws, url) == [{"order": 3}]


def test_input_transformer_fills_the_template(aws: Callable[..., Any]) -> None:
    transformer = {"InputPathsMap": {"n": "$.detail.order"}, "InputTemplate": '{"number": <n>}'}
    url = _rule_to_queue(aws, {"InputTransformer": transformer})
    _put(aws, {"order": 9})
    assert _bodies(aws, url) == [{"number": 9}]


def test_an_sns_target_publishes_the_event(aws: Callable[..., Any]) -> None:
    sns = aws("sns")
    topic_arn = sns.create_topic(Name="events-topic")["TopicArn"]
    url, queue_arn = _queue(aws)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    aws("events").put_rule(Name="to-sns", EventPattern=json.dumps({"source": ["shop"]}))
    aws("events").put_targets(Rule="to-sns", Targets=[{"Id": "t", "Arn": topic_arn}])
    _put(aws, {"order": 4})
    [envelope] = _bodies(aws, url)
    assert json.loads(envelope["Message"])["detail"] == {"order": 4}


# -- schedules ----------------------------------------------------------------------------


def _scheduled_rule(aws: Callable[..., Any], expression: str) -> tuple[str, str]:
    url, arn = _queue(aws, "ticks")
    events = aws("events")
    rule_arn = events.put_rule(Name="tick", ScheduleExpression=expression)["RuleArn"]
    events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])
    return url, rule_arn


def test_a_rate_rule_fires_every_period(aws: Callable[..., Any], advance: Advance) -> None:
    url, rule_arn = _scheduled_rule(aws, "rate(5 minutes)")
    advance(299)
    assert _bodies(aws, url) == []
    now = advance(1)
    [event] = _bodies(aws, url)
    assert event["detail-type"] == "Scheduled Event"
    assert (event["source"], event["resources"], event["detail"]) == (
        "aws.events",
        [rule_arn],
        {},
    )
    assert (event["account"], event["region"], event["time"]) == (
        "123456789012",
        "us-east-1",
        _iso(now),
    )
    advance(600)
    assert len(_bodies(aws, url)) == 2


def test_disabling_stops_a_schedule_and_enabling_restarts_it(
    aws: Callable[..., Any], advance: Advance
) -> None:
    url, _ = _scheduled_rule(aws, "rate(1 minute)")
    aws("events").disable_rule(Name="tick")
    advance(300)
    assert _bodies(aws, url) == []
    aws("events").enable_rule(Name="tick")
    advance(60)
    assert len(_bodies(aws, url)) == 1


def test_deleting_a_rule_stops_its_schedule(aws: Callable[..., Any], advance: Advance) -> None:
    url, _ = _scheduled_rule(aws, "rate(1 minute)")
    aws("events").remove_targets(Rule="tick", Ids=["q"])
    aws("events").delete_rule(Name="tick")
    advance(300)
    assert _bodies(aws, url) == []
    assert not [label for _, label in CLOCK.pending() if label.endswith("rule/tick")]


def test_changing_the_rate_replans(aws: Callable[..., Any], advance: Advance) -> None:
    url, _ = _scheduled_rule(aws, "rate(1 hour)")
    aws("events").put_rule(Name="tick", ScheduleExpression="rate(2 minutes)")
    advance(240)
    assert len(_bodies(aws, url)) == 2


def test_a_cron_rule_fires_on_its_minutes(aws: Callable[..., Any], advance: Advance) -> None:
    url, _ = _scheduled_rule(aws, "cron(0/15 * * * ? *)")
    fired = []
    for _ in range(60):
        now = advance(60)
        if _bodies(aws, url):
            fired.append(datetime.datetime.fromtimestamp(now, tz=datetime.UTC).minute)
    assert sorted(fired) == [0, 15, 30, 45]


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("rate(1 minutes)", "use 'minute' for 1"),
        ("rate(0 minutes)", "positive"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 12 * *)", "6 fields"),
        ("cron(0 25 * * ? *)", "hours '25'"),
        ("cron(0 12 ? * MON#9 *)", "1-7#1-5"),
        ("every day", "neither rate"),
    ],
)
def test_a_bad_schedule_is_refused_at_put_rule(
    aws: Callable[..., Any], expression: str, named: str
) -> None:
    with pytest.raises(ClientError) as caught:
        aws("events").put_rule(Name="bad", ScheduleExpression=expression)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert named in caught.value.response["Error"]["Message"]
