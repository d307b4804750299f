"""AWS set-up that several test folders repeat: an inbox on a topic, a tool's state table, and
the environment a subprocess needs to talk to a local endpoint."""

from __future__ import annotations

from typing import Any


def subscribe_inbox(sns: Any, sqs: Any, topic_arn: str, queue_name: str) -> str:
    """An SQS queue subscribed to TOPIC_ARN, so a test can read what the topic sent."""
    queue_url = str(sqs.create_queue(QueueName=queue_name)["QueueUrl"])
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=attributes["Attributes"]["QueueArn"])
    return queue_url


def topic_with_inbox(sns: Any, sqs: Any, topic_name: str, queue_name: str) -> tuple[str, str]:
    """A new topic and the inbox queue subscribed to it: (topic ARN, queue URL)."""
    topic_arn = str(sns.create_topic(Name=topic_name)["TopicArn"])
    return topic_arn, subscribe_inbox(sns, sqs, topic_arn, queue_name)


def create_state_table(dynamodb: Any, name: str) -> None:
    """A table shaped like the ones the product templates create: partition key "pk" only."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def endpoint_env(endpoint: str, region: str) -> dict[str, str]:
    """What a handler subprocess needs to send every AWS call to ENDPOINT in REGION."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
