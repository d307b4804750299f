"""What the Service Catalog launch role may do: create, read, update and delete the resources of
the products' templates, and nothing else.

CloudFormation's resource handlers call more than the obvious Create/Delete (reads after every
create, tag listings, ...); tests/products/test_launch_role.py checks this policy against the
handler permissions AWS publishes for every resource type the templates use, so a new resource
type or property cannot ship without the grants its launch needs.
"""

from __future__ import annotations

from typing import Any

from awacs import awslambda as aws_lambda
from awacs import cloudformation as cfn
from awacs import cloudwatch, dynamodb, ec2, events, iam, kms, logs, s3, sns, sqs
from awacs.aws import Action, Condition, Statement, StringEquals
from troposphere import Sub

from products.config import CatalogConfig
from products.iam import statement


def arn(service: str, resource: str, regional: bool = True) -> Sub:
    region = "${AWS::Region}" if regional else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region}:${{AWS::AccountId}}:{resource}")


def launch_statements(config: CatalogConfig) -> list[Statement]:
    named = f"{config.catalog['resource_prefix']}-*"
    bucket = f"{config.catalog['artifact_bucket_prefix']}-${{AWS::Region}}"
    return [
        statement(actions, resources, condition, sid)
        for sid, actions, resources, condition in _grants(named, bucket)
    ]


def _grants(named: str, bucket: str) -> list[tuple[str, list[Action], list[Any], Any]]:
    tool_logs = [
        arn("logs", f"log-group:/aws/lambda/{named}"),
        arn("logs", f"log-group:/aws/lambda/{named}:*"),
    ]
    # Stacks of provisioned products are named SC-<account>-pp-<id>; their rules inherit that.
    # fmt: off
    return [
        ("ProvisionedProductStacks",
         [cfn.CreateStack, cfn.UpdateStack, cfn.DeleteStack, cfn.DescribeStacks,
          cfn.DescribeStackEvents, cfn.DescribeStackResource, cfn.DescribeStackResources,
          cfn.GetTemplate, cfn.SetStackPolicy],
         [arn("cloudformation", "stack/SC-*")], None),
        # Service Catalog validates templates before it creates a stack; these take no resource.
        ("ValidateTemplates", [cfn.ValidateTemplate, cfn.GetTemplateSummary], ["*"], None),
        ("ReadPublishedArtifacts", [s3.GetObject],
         [Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}/*")], None),
        # Service Catalog keeps its own copy of each template in a bucket it owns, tagged so.
        ("ReadServiceCatalogTemplateCopies", [s3.GetObject], ["*"],
         Condition(StringEquals("s3:ExistingObjectTag/servicecatalog:provisioning", "true"))),
        ("ToolFunctions",
         [aws_lambda.CreateFunction, aws_lambda.DeleteFunction, aws_lambda.GetFunction,
          aws_lambda.UpdateFunctionCode, aws_lambda.UpdateFunctionConfiguration,
          aws_lambda.PutFunctionConcurrency, aws_lambda.DeleteFunctionConcurrency,
          aws_lambda.GetFunctionCodeSigningConfig, aws_lambda.GetRuntimeManagementConfig,
          aws_lambda.GetFunctionRecursionConfig, aws_lambda.PutFunctionRecursionConfig,
          aws_lambda.GetFunctionScalingConfig, aws_lambda.PutFunctionScalingConfig,
          aws_lambda.AddPermission, aws_lambda.RemovePermission, aws_lambda.GetPolicy,
          aws_lambda.PutFunctionEventInvokeConfig, aws_lambda.UpdateFunctionEventInvokeConfig,
          aws_lambda.DeleteFunctionEventInvokeConfig, aws_lambda.GetFunctionEventInvokeConfig,
          aws_lambda.TagResource, aws_lambda.UntagResource],
         [arn("lambda", f"function:{named}")], None),
        ("ToolRoles",
         [iam.CreateRole, iam.DeleteRole, iam.GetRole, iam.UpdateRole, iam.UpdateRoleDescription,
          iam.UpdateAssumeRolePolicy, iam.PutRolePolicy, iam.GetRolePolicy, iam.DeleteRolePolicy,
          iam.ListRolePolicies, iam.ListAttachedRolePolicies, iam.PutRolePermissionsBoundary,
          iam.DeleteRolePermissionsBoundary, iam.TagRole, iam.UntagRole],
         [arn("iam", f"role/{named}", regional=False)], None),
        ("PassToolRolesToLambda", [iam.PassRole], [arn("iam", f"role/{named}", regional=False)],
         Condition(StringEquals("iam:PassedToService", "lambda.amazonaws.com"))),
        ("ToolLogGroups",
         [logs.CreateLogGroup, logs.DeleteLogGroup, logs.PutRetentionPolicy,
          logs.DeleteRetentionPolicy, logs.AssociateKmsKey, logs.DisassociateKmsKey,
          logs.GetDataProtectionPolicy, logs.DeleteDataProtectionPolicy, logs.ListTagsForResource,
          logs.TagResource, logs.UntagResource],
         tool_logs, None),
        # CloudWatch Logs evaluates these against "*" whatever group they name.
        ("DescribeLogGroups",
         [logs.DescribeLogGroups, logs.DescribeResourcePolicies, logs.DescribeIndexPolicies],
         ["*"], None),
        ("SubscribeWatchedLogGroups",
         [logs.PutSubscriptionFilter, logs.DeleteSubscriptionFilter,
          logs.DescribeSubscriptionFilters],
         [arn("logs", "log-group:*")], None),
        ("ToolQueues",
         [sqs.CreateQueue, sqs.DeleteQueue, sqs.GetQueueUrl, sqs.GetQueueAttributes,
          sqs.SetQueueAttributes, sqs.ListQueueTags, sqs.TagQueue, sqs.UntagQueue],
         [arn("sqs", named)], None),
        ("ToolTopics",
         [sns.CreateTopic, sns.DeleteTopic, sns.GetTopicAttributes, sns.SetTopicAttributes,
          sns.ListSubscriptionsByTopic, sns.GetDataProtectionPolicy, sns.ListTagsForResource,
          sns.TagResource, sns.UntagResource],
         [arn("sns", named)], None),
        ("SubscribeToAlarmTopics",
         [sns.Subscribe, sns.Unsubscribe, sns.GetSubscriptionAttributes,
          sns.SetSubscriptionAttributes],
         [arn("sns", "*")], None),
        ("CreateToolKeys", [kms.CreateKey, kms.ListAliases], ["*"], None),
        # Keys cannot be named; the tool keys' own policies keep their use to this account.
        ("ManageToolKeys",
         [kms.DescribeKey, kms.GetKeyPolicy, kms.PutKeyPolicy, kms.EnableKeyRotation,
          kms.DisableKeyRotation, kms.GetKeyRotationStatus, kms.EnableKey, kms.DisableKey,
          kms.UpdateKeyDescription, kms.ListResourceTags, kms.TagResource, kms.UntagResource,
          kms.ScheduleKeyDeletion, kms.CreateGrant, kms.RevokeGrant, kms.Encrypt, kms.Decrypt,
          kms.GenerateDataKey],
         [arn("kms", "key/*")], None),
        ("ToolKeyAliases", [kms.CreateAlias, kms.DeleteAlias, kms.UpdateAlias],
         [arn("kms", f"alias/{named}"), arn("kms", "key/*")], None),
        ("ToolAlarms",
         [cloudwatch.PutMetricAlarm, cloudwatch.DeleteAlarms, cloudwatch.DescribeAlarms,
          cloudwatch.ListTagsForResource, cloudwatch.TagResource, cloudwatch.UntagResource],
         [arn("cloudwatch", f"alarm:{named}")], None),
        ("ToolRules",
         [events.PutRule, events.DeleteRule, events.DescribeRule, events.PutTargets,
          events.RemoveTargets, events.ListTargetsByRule, events.ListTagsForResource,
          events.TagResource, events.UntagResource],
         [arn("events", "rule/SC-*")], None),
        ("ToolTables",
         [dynamodb.CreateTable, dynamodb.DeleteTable, dynamodb.DescribeTable, dynamodb.UpdateTable,
          dynamodb.UpdateTimeToLive, dynamodb.DescribeTimeToLive,
          dynamodb.UpdateContinuousBackups, dynamodb.DescribeContinuousBackups,
          dynamodb.DescribeContributorInsights, dynamodb.DescribeKinesisStreamingDestination,
          dynamodb.GetResourcePolicy, dynamodb.ListTagsOfResource, dynamodb.TagResource,
          dynamodb.UntagResource],
         [arn("dynamodb", f"table/{named}")], None),
        # Placing a function in a VPC is validated with these; they have no resource scope.
        ("ValidateVpcPlacement",
         [ec2.DescribeSubnets, ec2.DescribeSecurityGroups, ec2.DescribeVpcs,
          ec2.DescribeNetworkInterfaces],
         ["*"], None),
    ]
    # fmt: on
