"""A realistic stack with every resource type and template feature our products use, created
through the local CloudFormation API; each resource is then described through its own API."""

import copy
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TEMPLATE_PATH = Path(__file__).parent / "templates" / "full_product.json"
ARTIFACT_BUCKET = "catalog-artifacts-us-east-1"
PACKAGE_KEY = "packages/log_processor/abc.zip"


def full_template() -> dict[str, Any]:
    return dict(json.loads(TEMPLATE_PATH.read_text()))


def package_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def aws(client_factory: Callable[..., Any]) -> Callable[[str], Any]:
    client_factory("s3").create_bucket(Bucket=ARTIFACT_BUCKET)
    client_factory("s3").put_object(Bucket=ARTIFACT_BUCKET, Key=PACKAGE_KEY, Body=package_zip())
    return client_factory


def create_stack(
    aws: Callable[[str], Any], name: str, template: dict[str, Any], **params: str
) -> dict[str, Any]:
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
    )
    return dict(cloudformation.describe_stacks(StackName=name)["Stacks"][0])


def physical_ids(aws: Callable[[str], Any], stack: str) -> dict[str, str]:
    summaries = aws("cloudformation").list_stack_resources(StackName=stack)[
        "StackResourceSummaries"
    ]
    return {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}


def test_full_prod_stack_creates_every_resource(aws: Callable[[str], Any]) -> None:
    stack = create_stack(aws, "full", full_template(), Environment="prod")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    ids = physical_ids(aws, "full")
    expected = set(full_template()["Resources"])
    assert set(ids) == expected
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["AlarmName"] == "full-errors"
    assert all(outputs.values())


def test_alarms_appear_with_actions_and_metric_math(aws: Callable[[str], Any]) -> None:
    create_stack(aws, "full", full_template(), Environment="prod")
    topic = physical_ids(aws, "full")["Topic"]
    alarms = {a["AlarmName"]: a for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    errors = alarms["full-errors"]
    assert errors["AlarmActions"] == [topic] and errors["OKActions"] == [topic]
    assert errors["Threshold"] == 1.0 and errors["TreatMissingData"] == "notBreaching"
    assert errors["StateValue"] == "INSUFFICIENT_DATA"
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": "full-fn"}]
    near_timeout = next(a for name, a in alarms.items() if "NearTimeoutAlarm" in name)
    assert [m["Id"] for m in near_timeout["Metrics"]] == ["duration", "percent"]
    assert near_timeout["Metrics"][1]["Expression"] == "100 * duration / 30000"
    dlq_alarm = next(a for name, a in alarms.items() if "DlqAlarm" in name)
    queue_name = physical_ids(aws, "full")["DeadLetterQueue"].rsplit("/", 1)[-1]
    assert dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": queue_name}]


def test_subscription_filter_and_lambda_settings(aws: Callable[[str], Any]) -> None:
    create_stack(aws, "full", full_template(), Environment="prod")
    ids = physical_ids(aws, "full")
    filters = aws("logs").describe_subscription_filters(logGroupName="/app/source")[
        "subscriptionFilters"
    ]
    assert [(f["filterName"], f["filterPattern"]) for f in filters] == [
        (ids["Subscription"], "?ERROR ?Exception")
    ]
    assert filters[0]["destinationArn"].endswith(":function:full-fn")
    lambda_client = aws("lambda")
    config = lambda_client.get_function(FunctionName="full-fn")["Configuration"]
    assert config["Architectures"] == ["arm64"] and config["TracingConfig"] == {"Mode": "Active"}
    assert config["MemorySize"] == 1024 and config["Runtime"] == "python3.13"
    assert config["LoggingConfig"] == {"LogGroup": "/aws/lambda/full-fn", "LogFormat": "JSON"}
    assert config["DeadLetterConfig"]["TargetArn"].startswith("arn:aws:sqs:")
    assert config["Environment"]["Variables"]["FIRST_AZ_REGION"] == "us"
    assert (
        lambda_client.get_function_concurrency(FunctionName="full-fn")[
            "ReservedConcurrentExecutions"
        ]
        == 10
    )
    invoke = lambda_client.get_function_event_invoke_config(FunctionName="full-fn")
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        ids["DeadLetterQueue"].rsplit("/", 1)[-1]
    )
    principals = {
        s["Principal"]["Service"]
        for s in json.loads(lambda_client.get_policy(FunctionName="full-fn")["Policy"])["Statement"]
    }
    assert principals == {"logs.us-east-1.amazonaws.com", "events.amazonaws.com"}


def test_policies_subscriptions_and_encryption(aws: Callable[[str], Any]) -> None:
    create_stack(aws, "full", full_template(), Environment="prod")
    ids = physical_ids(aws, "full")
    queue = aws("sqs").get_queue_attributes(
        QueueUrl=ids["DeadLetterQueue"], AttributeNames=["All"]
    )["Attributes"]
    assert json.loads(queue["Policy"])["Statement"][0]["Sid"] == "DenyInsecure"
    assert queue["SqsManagedSseEnabled"] == "true"
    topic = aws("sns").get_topic_attributes(TopicArn=ids["Topic"])["Attributes"]
    assert json.loads(topic["Policy"])["Statement"][0]["Sid"] == "Alarms"
    assert topic["KmsMasterKeyId"] == ids["Key"]
    protocols = {
        s["Protocol"]
        for s in aws("sns").list_subscriptions_by_topic(TopicArn=ids["Topic"])["Subscriptions"]
    }
    assert protocols == {"email", "lambda"}
    s3 = aws("s3")
    bucket = ids["Bucket"]
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Sid"] == "TLS"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert (
        s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"][
            "BlockPublicPolicy"
        ]
        is True
    )
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["Expiration"] == {
        "Days": 30
    }
    policy = json.loads(aws("kms").get_key_policy(KeyId=ids["Key"], PolicyName="default")["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"Root", "CloudWatch"}
    assert (
        aws("kms").describe_key(KeyId=ids["Key"])["KeyMetadata"]["Description"]
        == "on-call tool key"
    )


def test_table_log_group_role_and_rules(aws: Callable[[str], Any]) -> None:
    boundary = aws("iam").create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
            }
        ),
    )
    boundary_arn = boundary["Policy"]["Arn"]
    create_stack(
        aws, "full", full_template(), Environment="staging", PermissionsBoundaryArn=boundary_arn
    )
    ids = physical_ids(aws, "full")
    dynamodb = aws("dynamodb")
    assert dynamodb.describe_time_to_live(TableName=ids["DedupeTable"])[
        "TimeToLiveDescription"
    ] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = dynamodb.describe_continuous_backups(TableName=ids["DedupeTable"])[
        "ContinuousBackupsDescription"
    ]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert (
        dynamodb.describe_table(TableName=ids["DedupeTable"])["Table"]["SSEDescription"]["Status"]
        == "ENABLED"
    )
    groups = {g["logGroupName"]: g for g in aws("logs").describe_log_groups()["logGroups"]}
    assert groups["/aws/lambda/full-fn"]["retentionInDays"] == 30
    assert groups["/aws/lambda/full-fn"]["kmsKeyId"].startswith("arn:aws:kms:")
    role = aws("iam").get_role(RoleName=ids["Role"])["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary_arn
    assert aws("iam").list_role_policies(RoleName=ids["Role"])["PolicyNames"] == ["logs"]
    events = aws("events")
    assert events.describe_rule(Name=ids["Schedule"])["ScheduleExpression"] == "rate(5 minutes)"
    pattern = json.loads(events.describe_rule(Name=ids["AlarmStateRule"])["EventPattern"])
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=ids["Schedule"])["Targets"]] == ["fn"]


def test_conditions_skip_resources_in_dev_and_with_an_external_topic(
    aws: Callable[[str], Any],
) -> None:
    external = aws("sns").create_topic(Name="oncall")["TopicArn"]
    create_stack(aws, "dev", full_template(), Environment="dev", AlertTopicArn=external)
    ids = physical_ids(aws, "dev")
    assert not {"Topic", "TopicPolicy", "EmailSubscription", "DlqAlarm"} & set(ids)
    alarm = aws("cloudwatch").describe_alarms(AlarmNames=["dev-errors"])["MetricAlarms"][0]
    assert alarm["AlarmActions"] == [external] and alarm["Threshold"] == 5.0
    concurrency = aws("lambda").get_function_concurrency(FunctionName="dev-fn")
    assert "ReservedConcurrentExecutions" not in concurrency


def test_update_changes_alarms_and_adds_conditional_ones(aws: Callable[[str], Any]) -> None:
    create_stack(aws, "full", full_template(), Environment="dev")
    aws("cloudformation").update_stack(
        StackName="full",
        TemplateBody=json.dumps(full_template()),
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": "prod"}],
    )
    stack = aws("cloudformation").describe_stacks(StackName="full")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    alarms = {a["AlarmName"]: a for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert alarms["full-errors"]["Threshold"] == 1.0
    assert any("DlqAlarm" in name for name in alarms)


def test_delete_removes_alarms_filters_and_subscriptions(aws: Callable[[str], Any]) -> None:
    create_stack(aws, "full", full_template(), Environment="prod")
    aws("cloudformation").delete_stack(StackName="full")
    assert aws("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert aws("sns").list_subscriptions()["Subscriptions"] == []
    assert aws("logs").describe_log_groups(logGroupNamePrefix="/app")["logGroups"] == []
    assert aws("lambda").list_functions()["Functions"] == []


def test_failing_resource_rolls_the_stack_back_with_its_reason(aws: Callable[[str], Any]) -> None:
    template = copy.deepcopy(full_template())
    template["Resources"]["Subscription"]["Properties"]["DestinationArn"] = (
        "arn:aws:lambda:us-east-1:123456789012:function:does-not-exist"
    )
    stack = create_stack(aws, "broken", template, Environment="prod")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "Could not execute the lambda function" in stack["StackStatusReason"]
    assert (
        aws("cloudformation").list_stack_resources(StackName="broken")["StackResourceSummaries"]
        == []
    )
    assert aws("cloudwatch").describe_alarms()["MetricAlarms"] == []


def test_unsupported_type_fails_instead_of_being_skipped(aws: Callable[[str], Any]) -> None:
    template = {
        "Resources": {
            "Odd": {"Type": "AWS::AppRunner::Service", "Properties": {}},
            "Queue": {"Type": "AWS::SQS::Queue"},
        }
    }
    stack = create_stack(aws, "odd", template)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "AWS::AppRunner::Service" in stack["StackStatusReason"]
    assert aws("sqs").list_queues().get("QueueUrls", []) == []


def test_scheduler_schedule(aws: Callable[[str], Any]) -> None:
    template = {
        "Resources": {
            "Every": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "ScheduleExpression": "rate(1 hour)",
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Target": {
                        "Arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
                        "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                    },
                },
            }
        },
        "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Every", "Arn"]}}},
    }
    stack = create_stack(aws, "sched", template)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    name = physical_ids(aws, "sched")["Every"]
    schedule = aws("scheduler").get_schedule(Name=name)
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    assert stack["Outputs"][0]["OutputValue"] == schedule["Arn"]
    aws("cloudformation").delete_stack(StackName="sched")
    assert aws("scheduler").list_schedules()["Schedules"] == []


def test_failed_update_rolls_back_to_the_previous_template(aws: Callable[[str], Any]) -> None:
    create_stack(aws, "full", full_template(), Environment="prod")
    broken = copy.deepcopy(full_template())
    broken["Resources"]["ErrorsAlarm"]["Properties"]["EvaluationPeriods"] = 3
    broken["Resources"]["Subscription"]["Properties"]["DestinationArn"] = (
        "arn:aws:lambda:us-east-1:123456789012:function:does-not-exist"
    )
    aws("cloudformation").update_stack(
        StackName="full",
        TemplateBody=json.dumps(broken),
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": "prod"}],
    )
    stack = aws("cloudformation").describe_stacks(StackName="full")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "Could not execute the lambda function" in stack["StackStatusReason"]
    alarm = aws("cloudwatch").describe_alarms(AlarmNames=["full-errors"])["MetricAlarms"][0]
    assert alarm["EvaluationPeriods"] == 1
    filters = aws("logs").describe_subscription_filters(logGroupName="/app/source")
    assert filters["subscriptionFilters"][0]["destinationArn"].endswith(":function:full-fn")
