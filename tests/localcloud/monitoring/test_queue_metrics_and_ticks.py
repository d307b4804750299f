"""SQS queues report their depth each minute (the products' dead-letter alarms watch it), and the
minute tick outlives reset_state()."""

from datetime import timedelta
from typing import Any

from localcloud.clock import CLOCK
from localcloud.monitoring.ticks import TICK_LABEL
from localcloud.server import LocalCloud
from tests.localcloud.monitoring.alarm_support import alarm, clock_time


def test_a_queue_reports_its_visible_messages_each_minute(
    cw: Any, sqs: Any, localcloud: LocalCloud
) -> None:
    queue_url = sqs.create_queue(QueueName="checker-dlq")["QueueUrl"]
    for number in range(3):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"failed event {number}")
    start = clock_time(localcloud)
    localcloud.advance(120)
    points = cw.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "checker-dlq"}],
        StartTime=start - timedelta(minutes=2),
        EndTime=clock_time(localcloud),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert [point["Maximum"] for point in points] == [3.0, 3.0]


def test_the_dead_letter_alarm_of_the_products_fires_on_queue_depth(
    cw: Any, sqs: Any, localcloud: LocalCloud
) -> None:
    # As tests/products/golden/*.json declare DeadLetterQueueAlarm.
    cw.put_metric_alarm(
        AlarmName="checker-dead-letters",
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "checker-dlq"}],
        Statistic="Maximum",
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Period=60,
        EvaluationPeriods=1,
        TreatMissingData="notBreaching",
    )
    queue_url = sqs.create_queue(QueueName="checker-dlq")["QueueUrl"]
    localcloud.advance(60)
    assert alarm(cw, "checker-dead-letters")["StateValue"] == "OK"
    sqs.send_message(QueueUrl=queue_url, MessageBody="a failed event")
    localcloud.advance(60)
    assert alarm(cw, "checker-dead-letters")["StateValue"] == "ALARM"


def test_the_minute_tick_is_scheduled_again_after_a_reset(localcloud: LocalCloud) -> None:
    localcloud.reset()
    ticks = [due for due, label in CLOCK.pending() if label == TICK_LABEL]
    assert len(ticks) == 1
    assert ticks[0] % 60 == 0 and 0 < ticks[0] - localcloud.now() <= 60
