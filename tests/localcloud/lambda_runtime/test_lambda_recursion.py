"""Recursive loop detection: function -> SNS -> the same function stops after 16 invocations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud import LocalCloud
from localcloud.lambda_runtime import dropped_events
from tests.localcloud.lambda_runtime.functions import invoke_json, metric_sum

REPUBLISH = """
import boto3, os
def handler(event, context):
    boto3.client("sns").publish(TopicArn=os.environ["TOPIC"], Message="again")
    return "published"
"""

CALLS_ITSELF = """
import boto3, json
def handler(event, context):
    answer = boto3.client("lambda").invoke(FunctionName=context.function_name, Payload=b"{}")
    body = json.loads(answer["Payload"].read())
    return {"depth": 1 + (body["depth"] if isinstance(body, dict) and "depth" in body else 0),
            "inner": body}
"""


def test_a_loop_through_sns_is_stopped_after_16_invocations(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    topic = aws("sns").create_topic(Name="loop")["TopicArn"]
    create_function("looper", REPUBLISH, Environment={"Variables": {"TOPIC": topic}})
    arn = aws("lambda").get_function(FunctionName="looper")["Configuration"]["FunctionArn"]
    aws("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    aws("lambda").add_permission(  # SNS delivers only where the resource policy allows it
        FunctionName="looper",
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )

    aws("sns").publish(TopicArn=topic, Message="start")
    localcloud.advance(0)

    dims = {"FunctionName": "looper"}
    assert metric_sum(aws, "Invocations", dims, localcloud.now()) == 16
    assert metric_sum(aws, "RecursiveInvocationsDropped", dims, localcloud.now()) == 1
    [dropped] = [d for d in dropped_events() if d.function_arn == arn]
    assert "recursive loop" in dropped.reason
    assert not [label for _, label in _pending() if "looper" in label]


def _pending() -> list[tuple[float, str]]:
    from localcloud.clock import CLOCK

    return CLOCK.pending()


def test_a_synchronous_self_invocation_chain_gets_recursive_invocation_exception(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("selfcall", CALLS_ITSELF, Timeout=60)

    answer = invoke_json(aws, "selfcall")

    # 16 invocations run; the 17th call is refused and the 16th fails with that error.
    body = answer["Body"]
    depth = 0
    while isinstance(body, dict) and "inner" in body:
        depth += 1
        body = body["inner"]
    assert depth == 15  # invocations 1..15 returned; the 16th failed calling the 17th
    assert body["errorType"] == "RecursiveInvocationException"
