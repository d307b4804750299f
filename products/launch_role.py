"""What the Service Catalog launch role may do: create, read, update and delete the resources of
the products' templates, and nothing else.

The statements are grouped by the CloudFormation resource type they serve. The role gets those
of the types the shared builder adds (SHARED_RESOURCE_TYPES) and of the types each tool declares
next to its builder (Product.launch_resource_types), so adding a tool that uses known types
touches nothing here; a tool that declares a type with no statements fails the build.

CloudFormation's resource handlers call more than the obvious Create/Delete (reads after every
create, tag listings, ...); tests/products/test_launch_role.py checks this policy against the
handler permissions AWS publishes for every resource type the templates use, so a new resource
type or property cannot ship without the grants its launch needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from awacs import awslambda as aws_lambda
from awacs import cloudformation as cfn
from awacs import cloudwatch, dynamodb, ec2, events, iam, kms, logs, s3, sns, sqs
from awacs.aws import (
    Action,
    Condition,
    ForAllValuesStringNotEquals,
    ForAnyValueStringLike,
    Statement,
    StringEquals,
)
from troposphere import Sub

from catalog.config import CatalogConfig
from products.builder import SHARED_RESOURCE_TYPES, ProductDefinition
from products.errors import BuildError
from products.iam import statement
from products.key_policy import TOOL_KEY_TAG
from products.spec import discover_products

# Statements that serve the provisioned product's stack itself, whatever it contains.
EVERY_STACK: frozenset[str] = frozenset()


# What CloudFormation's AWS::KMS::Key handlers call on a key of the tools, and what the tools'
# resources (log group, queue, topic, table) ask of it while they are created.
_KEY_MANAGEMENT: list[Action] = [
    kms.DescribeKey, kms.GetKeyPolicy, kms.PutKeyPolicy, kms.EnableKeyRotation,
    kms.DisableKeyRotation, kms.GetKeyRotationStatus, kms.EnableKey, kms.DisableKey,
    kms.UpdateKeyDescription, kms.ListResourceTags, kms.TagResource, kms.ScheduleKeyDeletion,
    kms.CreateGrant, kms.RevokeGrant, kms.Encrypt, kms.Decrypt, kms.GenerateDataKey,
]  # fmt: skip


def arn(service: str, resource: str, regional: bool = True) -> Sub:
    region = "${AWS::Region}" if regional else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region}:${{AWS::AccountId}}:{resource}")


def launch_statements(config: CatalogConfig) -> list[Statement]:
    """The launch role's policy for every discovered product."""
    return statements_for(config, launched_resource_types(discover_products().values()))


def launched_resource_types(products: Iterable[ProductDefinition]) -> frozenset[str]:
    """The shared builder's resource types and those the PRODUCTS declare, each one granted."""
    granted = frozenset().union(*(types for _, types, _, _, _ in _grants("", "")))
    needed = set(SHARED_RESOURCE_TYPES)
    for product in products:
        unknown = sorted(set(product.launch_resource_types) - granted)
        if unknown:
            raise BuildError(
                f"{product.name} declares resource type(s) {', '.join(unknown)} that the launch "
                "role has no statements for: add them to products/launch_role.py (the "
                "permissions the type's CloudFormation handlers list)"
            )
        needed |= product.launch_resource_types
    return frozenset(needed)


def statements_for(config: CatalogConfig, resource_types: frozenset[str]) -> list[Statement]:
    """The statements every stack needs and those serving any of RESOURCE_TYPES, in order."""
    named = f"{config.catalog['resource_prefix']}-*"
    bucket = f"{config.catalog['artifact_bucket_prefix']}-${{AWS::Region}}"
    boundary = config.catalog.get("permissions_boundary_arn")
    return [
        statement(actions, resources, condition, sid)
        for sid, types, actions, resources, condition in _grants(
            named, bucket, boundary, config.catalog["resource_prefix"]
        )
        if types == EVERY_STACK or types & resource_types
    ]


Grant = tuple[str, frozenset[str], list[Action], list[Any], Any]


def _grants(named: str, bucket: str, boundary: str | None = None, prefix: str = "") -> list[Grant]:
    tool_logs = [
        arn("logs", f"log-group:/aws/lambda/{named}"),
        arn("logs", f"log-group:/aws/lambda/{named}:*"),
    ]
    # Stacks of provisioned products are named SC-<account>-pp-<id>; their rules inherit that.
    # fmt: off
    return [
        ("ProvisionedProductStacks", EVERY_STACK,
         [cfn.CreateStack, cfn.UpdateStack, cfn.DeleteStack, cfn.DescribeStacks,
          cfn.DescribeStackEvents, cfn.DescribeStackResource, cfn.DescribeStackResources,
          cfn.GetTemplate, cfn.SetStackPolicy],
         [arn("cloudformation", "stack/SC-*")], None),
        # Service Catalog validates templates before it creates a stack; these take no resource.
        ("ValidateTemplates", EVERY_STACK,
         [cfn.ValidateTemplate, cfn.GetTemplateSummary], ["*"], None),
        ("ReadPublishedArtifacts", EVERY_STACK, [s3.GetObject],
         [Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}/*")], None),
        # Service Catalog keeps its own copy of each template in a bucket it owns, tagged so.
        ("ReadServiceCatalogTemplateCopies", EVERY_STACK, [s3.GetObject], ["*"],
         Condition(StringEquals("s3:ExistingObjectTag/servicecatalog:provisioning", "true"))),
        ("ToolFunctions",
         _types("Lambda::Function", "Lambda::Permission", "Lambda::EventInvokeConfig"),
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
        *_role_grants(named, boundary),
        ("PassToolRolesToLambda", _types("IAM::Role"),
         [iam.PassRole], [arn("iam", f"role/{named}", regional=False)],
         Condition(StringEquals("iam:PassedToService", "lambda.amazonaws.com"))),
        ("ToolLogGroups", _types("Logs::LogGroup"),
         [logs.CreateLogGroup, logs.DeleteLogGroup, logs.PutRetentionPolicy,
          logs.DeleteRetentionPolicy, logs.AssociateKmsKey, logs.DisassociateKmsKey,
          logs.GetDataProtectionPolicy, logs.DeleteDataProtectionPolicy, logs.ListTagsForResource,
          logs.TagResource, logs.UntagResource],
         tool_logs, None),
        # CloudWatch Logs evaluates these against "*" whatever group they name.
        ("DescribeLogGroups", _types("Logs::LogGroup"),
         [logs.DescribeLogGroups, logs.DescribeResourcePolicies, logs.DescribeIndexPolicies],
         ["*"], None),
        ("SubscribeWatchedLogGroups", _types("Logs::SubscriptionFilter"),
         [logs.PutSubscriptionFilter, logs.DeleteSubscriptionFilter,
          logs.DescribeSubscriptionFilters],
         [arn("logs", "log-group:*")], None),
        ("ToolQueues", _types("SQS::Queue"),
         [sqs.CreateQueue, sqs.DeleteQueue, sqs.GetQueueUrl, sqs.GetQueueAttributes,
          sqs.SetQueueAttributes, sqs.ListQueueTags, sqs.TagQueue, sqs.UntagQueue],
         [arn("sqs", named)], None),
        ("ToolTopics", _types("SNS::Topic"),
         [sns.CreateTopic, sns.DeleteTopic, sns.GetTopicAttributes, sns.SetTopicAttributes,
          sns.ListSubscriptionsByTopic, sns.GetDataProtectionPolicy, sns.ListTagsForResource,
          sns.TagResource, sns.UntagResource],
         [arn("sns", named)], None),
        ("SubscribeToAlarmTopics", _types("SNS::Subscription"),
         [sns.Subscribe, sns.Unsubscribe, sns.GetSubscriptionAttributes,
          sns.SetSubscriptionAttributes],
         [arn("sns", "*")], None),
        *_key_grants(named, prefix),
        ("ToolAlarms", _types("CloudWatch::Alarm"),
         [cloudwatch.PutMetricAlarm, cloudwatch.DeleteAlarms, cloudwatch.DescribeAlarms,
          cloudwatch.ListTagsForResource, cloudwatch.TagResource, cloudwatch.UntagResource],
         [arn("cloudwatch", f"alarm:{named}")], None),
        # Dashboards are global to the account: their ARNs name no region.
        ("ToolDashboards", _types("CloudWatch::Dashboard"),
         [cloudwatch.PutDashboard, cloudwatch.DeleteDashboards, cloudwatch.GetDashboard],
         [arn("cloudwatch", f"dashboard/{named}", regional=False)], None),
        ("ToolRules", _types("Events::Rule"),
         [events.PutRule, events.DeleteRule, events.DescribeRule, events.PutTargets,
          events.RemoveTargets, events.ListTargetsByRule, events.ListTagsForResource,
          events.TagResource, events.UntagResource],
         [arn("events", "rule/SC-*")], None),
        ("ToolTables", _types("DynamoDB::Table"),
         [dynamodb.CreateTable, dynamodb.DeleteTable, dynamodb.DescribeTable, dynamodb.UpdateTable,
          dynamodb.UpdateTimeToLive, dynamodb.DescribeTimeToLive,
          dynamodb.UpdateContinuousBackups, dynamodb.DescribeContinuousBackups,
          dynamodb.DescribeContributorInsights, dynamodb.DescribeKinesisStreamingDestination,
          dynamodb.GetResourcePolicy, dynamodb.ListTagsOfResource, dynamodb.TagResource,
          dynamodb.UntagResource],
         [arn("dynamodb", f"table/{named}")], None),
        # Placing a function in a VPC is validated with these; they have no resource scope.
        ("ValidateVpcPlacement", _types("Lambda::Function"),
         [ec2.DescribeSubnets, ec2.DescribeSecurityGroups, ec2.DescribeVpcs,
          ec2.DescribeNetworkInterfaces],
         ["*"], None),
    ]
    # fmt: on


def _key_grants(named: str, prefix: str) -> list[Grant]:
    """The tool keys' statements. Keys have no name to scope an ARN by: a key is the tools' if
    it carries TOOL_KEY_TAG with the resource prefix (set at CreateKey, so it holds from the
    first call on a new key) or an alias of theirs (alias/<prefix>-*: keys launched before the
    tag existed). Keys are created only with the tag, and the tag cannot be removed."""
    tag = f"aws:ResourceTag/{TOOL_KEY_TAG}"
    tagged = Condition(StringEquals(tag, prefix))
    aliased = Condition(ForAnyValueStringLike("kms:ResourceAliases", f"alias/{named}"))
    keys = [arn("kms", "key/*")]
    types = _types("KMS::Key")
    alias_changes: list[Action] = [kms.CreateAlias, kms.DeleteAlias, kms.UpdateAlias]
    return [
        ("CreateToolKeys", types, [kms.CreateKey], ["*"],
         Condition(StringEquals(f"aws:RequestTag/{TOOL_KEY_TAG}", prefix))),
        ("ListKeyAliases", types, [kms.ListAliases], ["*"], None),
        # Tags given to CreateKey are authorized as TagResource before the key carries them:
        # only the request can be checked, it must set the tag to the prefix.
        ("TagNewToolKeys", types, [kms.TagResource], keys,
         Condition(StringEquals(f"aws:RequestTag/{TOOL_KEY_TAG}", prefix))),
        ("ManageTaggedToolKeys", types, _KEY_MANAGEMENT, keys, tagged),
        ("ManageAliasedToolKeys", types, _KEY_MANAGEMENT, keys, aliased),
        ("UntagToolKeysKeepingTheirTag", types, [kms.UntagResource], keys,
         Condition([
             StringEquals(tag, prefix),
             ForAllValuesStringNotEquals("aws:TagKeys", [TOOL_KEY_TAG]),
         ])),
        ("ToolKeyAliases", _types("KMS::Alias"), alias_changes,
         [arn("kms", f"alias/{named}")], None),
        # An alias operation is authorized on the key it points to as well.
        ("ToolKeyAliasTargets", _types("KMS::Alias"), alias_changes, keys, tagged),
        ("AliasedToolKeyAliasTargets", _types("KMS::Alias"),
         [kms.DeleteAlias, kms.UpdateAlias], keys, aliased),
    ]  # fmt: skip


def _role_grants(named: str, boundary: str | None) -> list[Grant]:
    """The tool roles' statements. With a permissions boundary configured, a role can only be
    created, given policies or re-bounded with exactly that boundary (iam:PermissionsBoundary),
    and its boundary cannot be removed: launched products cannot create unbounded roles."""
    roles = [arn("iam", f"role/{named}", regional=False)]
    types = _types("IAM::Role")
    if boundary is None:
        return [
            ("ToolRoles", types,
             [iam.CreateRole, iam.DeleteRole, iam.GetRole, iam.UpdateRole,
              iam.UpdateRoleDescription, iam.UpdateAssumeRolePolicy, iam.PutRolePolicy,
              iam.GetRolePolicy, iam.DeleteRolePolicy, iam.ListRolePolicies,
              iam.ListAttachedRolePolicies, iam.PutRolePermissionsBoundary,
              iam.DeleteRolePermissionsBoundary, iam.TagRole, iam.UntagRole],
             roles, None),
        ]  # fmt: skip
    return [
        ("ToolRoles", types,
         [iam.DeleteRole, iam.GetRole, iam.UpdateRole, iam.UpdateRoleDescription,
          iam.UpdateAssumeRolePolicy, iam.GetRolePolicy, iam.DeleteRolePolicy,
          iam.ListRolePolicies, iam.ListAttachedRolePolicies, iam.TagRole, iam.UntagRole],
         roles, None),
        ("ToolRolesOnlyWithBoundary", types,
         [iam.CreateRole, iam.PutRolePolicy, iam.PutRolePermissionsBoundary],
         roles, Condition(StringEquals("iam:PermissionsBoundary", boundary))),
    ]  # fmt: skip


def _types(*names: str) -> frozenset[str]:
    return frozenset(f"AWS::{name}" for name in names)
