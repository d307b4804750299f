"""A stack update whose parameters flip a Condition: CloudFormation deletes the resources whose
condition turned false and creates those whose condition turned true, even when the resource's
own properties reference the changed parameter (moto 'updated' them with the new values, and an
empty required property failed the whole update)."""

import json
from collections.abc import Callable
from typing import Any

TEMPLATE = {
    "Parameters": {"InboxArn": {"Type": "String", "Default": ""}},
    "Conditions": {"HasInbox": {"Fn::Not": [{"Fn::Equals": [{"Ref": "InboxArn"}, ""]}]}},
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}},
        "InboxSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasInbox",
            "Properties": {
                "TopicArn": {"Ref": "Topic"},
                "Protocol": "sqs",
                "Endpoint": {"Ref": "InboxArn"},
            },
        },
    },
}


def _deploy(cloudformation: Any, inbox_arn: str, *, create: bool = False) -> dict[str, Any]:
    call = cloudformation.create_stack if create else cloudformation.update_stack
    call(
        StackName="flips",
        TemplateBody=json.dumps(TEMPLATE),
        Parameters=[{"ParameterKey": "InboxArn", "ParameterValue": inbox_arn}],
    )
    return dict(cloudformation.describe_stacks(StackName="flips")["Stacks"][0])


def _endpoints(sns: Any) -> list[str]:
    return [s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"]]


def _queue_arn(sqs: Any, name: str) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def test_condition_turning_false_deletes_and_turning_true_creates(
    client_factory: Callable[..., Any],
) -> None:
    cloudformation, sns, sqs = (client_factory(s) for s in ("cloudformation", "sns", "sqs"))
    first, second = _queue_arn(sqs, "first"), _queue_arn(sqs, "second")
    assert _deploy(cloudformation, first, create=True)["StackStatus"] == "CREATE_COMPLETE"
    assert _endpoints(sns) == [first]

    cleared = _deploy(cloudformation, "")
    assert cleared["StackStatus"] == "UPDATE_COMPLETE", cleared.get("StackStatusReason")
    assert _endpoints(sns) == []
    listed = cloudformation.list_stack_resources(StackName="flips")["StackResourceSummaries"]
    assert {r["LogicalResourceId"] for r in listed} == {"Topic"}

    again = _deploy(cloudformation, second)
    assert again["StackStatus"] == "UPDATE_COMPLETE", again.get("StackStatusReason")
    assert _endpoints(sns) == [second]
