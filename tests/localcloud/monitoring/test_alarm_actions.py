"""A state change runs the alarm's actions (SNS), goes to the default event bus and into the
alarm history; SetAlarmState does the same. The messages parse with the handlers' decoder."""

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from localcloud.server import LocalCloud
from tests.localcloud.monitoring.alarm_support import (
    alarm,
    put_alarm,
    put_values,
    received,
    state,
    topic_with_queue,
)

SHARED = Path(__file__).resolve().parents[3] / "handlers" / "shared"
if str(SHARED) not in sys.path:
    sys.path.insert(0, str(SHARED))

from oncall_shared.events import parse_alarm_event  # noqa: E402


def notified_alarm(cw: Any, topic: str, **overrides: Any) -> None:
    put_alarm(
        cw,
        AlarmDescription="Errors on the checker",
        AlarmActions=[topic],
        OKActions=[topic],
        TreatMissingData="notBreaching",
        Dimensions=[{"Name": "FunctionName", "Value": "checker"}],
        **overrides,
    )


def put_errors(cw: Any, cloud: LocalCloud, value: float) -> None:
    from tests.localcloud.monitoring.alarm_support import NAMESPACE, clock_time

    cw.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": "Errors",
                "Value": value,
                "Timestamp": clock_time(cloud),
                "Dimensions": [{"Name": "FunctionName", "Value": "checker"}],
            }
        ],
    )


def test_the_alarm_message_reaches_the_topics_subscriber_in_cloudwatchs_shape(
    cw: Any, sns: Any, sqs: Any, localcloud: LocalCloud
) -> None:
    topic, inbox = topic_with_queue(sns, sqs)
    notified_alarm(cw, topic)
    put_errors(cw, localcloud, 7)
    localcloud.advance(60)
    [envelope] = received(sqs, inbox)
    assert envelope["Subject"] == 'ALARM: "errors" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    found = alarm(cw)
    assert message["AlarmArn"] == found["AlarmArn"]
    assert (message["OldStateValue"], message["NewStateValue"]) == ("INSUFFICIENT_DATA", "ALARM")
    assert message["NewStateReason"] == found["StateReason"]
    assert message["Region"] == "US East (N. Virginia)"
    assert message["AlarmDescription"] == "Errors on the checker"
    assert message["StateChangeTime"].endswith("+0000")
    assert message["Trigger"] == {
        "MetricName": "Errors",
        "Namespace": "OnCall/Test",
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Dimensions": [{"value": "checker", "name": "FunctionName"}],
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 5.0,
        "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    }
    # The alert handler's decoder reads it as an SNS record.
    [change] = parse_alarm_event({"Records": [{"Sns": envelope}]})
    assert (change.name, change.new_state, change.region) == ("errors", "ALARM", "us-east-1")
    assert change.dimensions == {"FunctionName": "checker"}


def test_recovery_sends_the_ok_message(cw: Any, sns: Any, sqs: Any, localcloud: LocalCloud) -> None:
    topic, inbox = topic_with_queue(sns, sqs)
    notified_alarm(cw, topic)
    put_errors(cw, localcloud, 7)
    localcloud.advance(60)
    put_errors(cw, localcloud, 0)
    localcloud.advance(60)
    messages = [json.loads(envelope["Message"]) for envelope in received(sqs, inbox)]
    assert [m["NewStateValue"] for m in messages] == ["ALARM", "OK"]
    assert messages[1]["NewStateReason"].endswith(
        "was not greater than or equal to the threshold (5.0) "
        "(minimum 1 datapoint for ALARM -> OK transition)."
    )


def test_disabled_actions_send_nothing_but_the_state_still_changes(
    cw: Any, sns: Any, sqs: Any, localcloud: LocalCloud
) -> None:
    topic, inbox = topic_with_queue(sns, sqs)
    notified_alarm(cw, topic, ActionsEnabled=False)
    put_errors(cw, localcloud, 7)
    localcloud.advance(60)
    assert state(cw) == "ALARM"
    assert received(sqs, inbox) == []


def test_the_state_change_event_goes_to_the_default_bus(
    cw: Any, events: Any, sqs: Any, localcloud: LocalCloud
) -> None:
    queue_url = sqs.create_queue(QueueName="alarm-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    pattern = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
    events.put_rule(Name="alarms", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="alarms", Targets=[{"Id": "inbox", "Arn": queue_arn}])
    put_alarm(cw, AlarmDescription="Errors on the checker")
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    [event] = received(sqs, queue_url)
    found = alarm(cw)
    assert event["resources"] == [found["AlarmArn"]]
    detail = event["detail"]
    assert detail["alarmName"] == "errors"
    assert detail["state"]["value"] == "ALARM"
    assert detail["state"]["reasonData"] == found["StateReasonData"]
    assert detail["previousState"]["value"] == "INSUFFICIENT_DATA"
    [query] = detail["configuration"]["metrics"]
    assert query["metricStat"]["metric"] == {
        "namespace": "OnCall/Test",
        "name": "Errors",
        "dimensions": {},
    }
    [change] = parse_alarm_event(event)
    assert (change.source, change.new_state, change.old_state) == (
        "eventbridge",
        "ALARM",
        "INSUFFICIENT_DATA",
    )


def test_state_reason_data_is_cloudwatchs_json_with_clock_times(
    cw: Any, localcloud: LocalCloud
) -> None:
    put_alarm(cw, EvaluationPeriods=2, DatapointsToAlarm=1)
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    found = alarm(cw)
    data = json.loads(found["StateReasonData"])
    assert list(data) == [
        "version",
        "queryDate",
        "startDate",
        "statistic",
        "period",
        "recentDatapoints",
        "threshold",
        "evaluatedDatapoints",
    ]
    assert (data["version"], data["statistic"], data["period"]) == ("1.0", "Sum", 60)
    tick = found["StateTransitionedTimestamp"]
    assert data["queryDate"] == tick.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    assert found["StateUpdatedTimestamp"] == tick
    assert tick.timestamp() <= localcloud.now() and tick.second == 0
    assert data["recentDatapoints"] == [9.0]
    latest = data["evaluatedDatapoints"][0]
    assert latest == {"timestamp": latest["timestamp"], "sampleCount": 1.0, "value": 9.0}


def test_the_history_records_each_state_update(cw: Any, localcloud: LocalCloud) -> None:
    put_alarm(cw, TreatMissingData="notBreaching")
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    put_values(cw, localcloud, 0)
    localcloud.advance(60)
    items = cw.describe_alarm_history(AlarmName="errors", HistoryItemType="StateUpdate")[
        "AlarmHistoryItems"
    ]
    assert [i["HistorySummary"] for i in items] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
    ]
    latest = json.loads(items[0]["HistoryData"])
    assert latest["oldState"]["stateValue"] == "ALARM"
    assert latest["newState"]["stateValue"] == "OK"
    assert latest["newState"]["stateReasonData"]["recentDatapoints"] == [9.0, 0.0]
    assert items[0]["AlarmType"] == "MetricAlarm"
    everything = cw.describe_alarm_history(AlarmName="errors")["AlarmHistoryItems"]
    assert everything[-1]["HistoryItemType"] == "ConfigurationUpdate"


def test_set_alarm_state_runs_the_actions_and_holds_until_the_next_evaluation(
    cw: Any, sns: Any, sqs: Any, localcloud: LocalCloud
) -> None:
    topic, inbox = topic_with_queue(sns, sqs)
    notified_alarm(cw, topic)
    put_errors(cw, localcloud, 0)
    localcloud.advance(60)
    assert state(cw) == "OK"
    received(sqs, inbox)  # the first OK message
    cw.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="drill")
    assert (state(cw), alarm(cw)["StateReason"]) == ("ALARM", "drill")
    [drill] = [json.loads(e["Message"]) for e in received(sqs, inbox)]
    assert (drill["NewStateValue"], drill["NewStateReason"]) == ("ALARM", "drill")
    summaries = [
        i["HistorySummary"]
        for i in cw.describe_alarm_history(AlarmName="errors", HistoryItemType="StateUpdate")[
            "AlarmHistoryItems"
        ]
    ]
    assert summaries[0] == "Alarm updated from OK to ALARM"
    localcloud.advance(60)  # the next evaluation puts it back where the data says
    assert state(cw) == "OK"
    assert [json.loads(e["Message"])["NewStateValue"] for e in received(sqs, inbox)] == ["OK"]


@pytest.mark.parametrize("bad", [{"StateValue": "BROKEN"}, {"AlarmName": "nope"}])
def test_set_alarm_state_refuses_bad_input(cw: Any, bad: dict[str, str]) -> None:
    put_alarm(cw)
    arguments = {"AlarmName": "errors", "StateValue": "ALARM", "StateReason": "drill", **bad}
    with pytest.raises(cw.exceptions.ClientError):
        cw.set_alarm_state(**arguments)
    assert state(cw) == "INSUFFICIENT_DATA"


def test_an_action_localcloud_does_not_run_is_recorded_as_failed(
    cw: Any, localcloud: LocalCloud
) -> None:
    put_alarm(cw, AlarmActions=["arn:aws:automate:us-east-1:ec2:stop"])
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    [action] = cw.describe_alarm_history(AlarmName="errors", HistoryItemType="Action")[
        "AlarmHistoryItems"
    ]
    assert action["HistorySummary"].startswith(
        "Failed to execute action arn:aws:automate:us-east-1:ec2:stop"
    )
    assert "not supported by localcloud" in action["HistorySummary"]


def test_a_composite_alarm_notifies_with_its_rule(
    cw: Any, sns: Any, sqs: Any, localcloud: LocalCloud
) -> None:
    topic, inbox = topic_with_queue(sns, sqs)
    put_alarm(cw)
    cw.put_composite_alarm(
        AlarmName="checker-down", AlarmRule="ALARM(errors)", AlarmActions=[topic]
    )
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    [envelope] = received(sqs, inbox)
    message = json.loads(envelope["Message"])
    assert (message["AlarmName"], message["AlarmRule"]) == ("checker-down", "ALARM(errors)")
    assert "Trigger" not in message
    [change] = parse_alarm_event({"Records": [{"Sns": envelope}]})
    assert change.is_composite and change.new_state == "ALARM"
