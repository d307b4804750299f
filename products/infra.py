"""The catalog's own infrastructure (the bootstrap stack), deployed once per region.

It holds the regional artifact bucket that templates and Lambda packages are published to (with
an organization read policy, so launches in member accounts can fetch the code), and the Service
Catalog launch role that creates the products' resources in an account. IAM is global, so the
role is created only where CreateLaunchRole is true (the first configured region).
"""

from __future__ import annotations

from awacs import awslambda as lambda_actions
from awacs import cloudformation, dynamodb, events, iam, kms, logs, s3, sns, sqs
from awacs import cloudwatch as cloudwatch_actions
from awacs import ec2 as ec2_actions
from awacs.aws import (
    Allow,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from awacs.helpers.trust import make_simple_assume_policy
from troposphere import Equals, GetAtt, If, Not, Output, Parameter, Ref, Sub, Template
from troposphere import iam as iam_resources
from troposphere import s3 as s3_resources

from products.builder import checkov_skips
from products.config import CatalogConfig
from products.iam import statement as allow

POLICY_VERSION = "2012-10-17"


def build_bootstrap_template(config: CatalogConfig) -> Template:
    template = Template()
    template.set_version("2010-09-09")
    template.set_description(
        "On-call Tools Catalog bootstrap: regional artifact bucket and Service Catalog launch role"
    )
    _add_parameters(template)
    _add_buckets(template, config)
    if "local_role_name" in config.portfolio.get("launch_role", {}):
        _add_launch_role(template, config)
    return template


def _add_parameters(template: Template) -> None:
    template.add_parameter(
        Parameter(
            "OrganizationId",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^o-[a-z0-9]{10,32}$",
            Description="AWS Organizations id whose accounts may read published artifacts; empty "
            "keeps them to this account.",
        )
    )
    template.add_parameter(
        Parameter(
            "CreateLaunchRole",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="IAM is global: create the launch role in one region only.",
        )
    )
    template.add_condition("ShareWithOrganization", Not(Equals(Ref("OrganizationId"), "")))
    template.add_condition("LaunchRoleHere", Equals(Ref("CreateLaunchRole"), "true"))


def _add_buckets(template: Template, config: CatalogConfig) -> None:
    prefix = config.catalog["artifact_bucket_prefix"]
    blocked = s3_resources.PublicAccessBlockConfiguration(
        BlockPublicAcls=True,
        BlockPublicPolicy=True,
        IgnorePublicAcls=True,
        RestrictPublicBuckets=True,
    )
    template.add_resource(
        s3_resources.Bucket(
            "AccessLogBucket",
            Metadata=checkov_skips(
                {
                    # Logging the access-log bucket into itself would log its own writes forever.
                    "CKV_AWS_18": "this is the access-log bucket; it cannot log to itself",
                }
            ),
            BucketName=Sub(f"{prefix}-logs-${{AWS::Region}}"),
            BucketEncryption=_sse_s3(),
            PublicAccessBlockConfiguration=blocked,
            VersioningConfiguration=s3_resources.VersioningConfiguration(Status="Enabled"),
            OwnershipControls=s3_resources.OwnershipControls(
                Rules=[s3_resources.OwnershipControlsRule(ObjectOwnership="BucketOwnerPreferred")]
            ),
            LifecycleConfiguration=s3_resources.LifecycleConfiguration(
                Rules=[
                    s3_resources.LifecycleRule(
                        Id="expire-access-logs", Status="Enabled", ExpirationInDays=365
                    )
                ]
            ),
        )
    )
    template.add_resource(
        s3_resources.Bucket(
            "ArtifactBucket",
            Metadata=checkov_skips(
                {
                    # Lambda in member accounts fetches code with its own credentials; SSE-KMS would
                    # need a cross-account key grant for every launching account.
                    "CKV_AWS_145": "SSE-S3 keeps code fetchable across the organization",
                }
            ),
            BucketName=Sub(f"{prefix}-${{AWS::Region}}"),
            BucketEncryption=_sse_s3(),
            PublicAccessBlockConfiguration=blocked,
            VersioningConfiguration=s3_resources.VersioningConfiguration(Status="Enabled"),
            OwnershipControls=s3_resources.OwnershipControls(
                Rules=[s3_resources.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            LoggingConfiguration=s3_resources.LoggingConfiguration(
                DestinationBucketName=Ref("AccessLogBucket"), LogFilePrefix="artifacts/"
            ),
        )
    )
    template.add_resource(
        s3_resources.BucketPolicy(
            "ArtifactBucketPolicy",
            Bucket=Ref("ArtifactBucket"),
            PolicyDocument=_artifact_bucket_policy(),
        )
    )
    template.add_output(
        Output(
            "ArtifactBucketName",
            Value=Ref("ArtifactBucket"),
            Description="Templates and Lambda packages are published here",
        )
    )


def _sse_s3() -> s3_resources.BucketEncryption:
    return s3_resources.BucketEncryption(
        ServerSideEncryptionConfiguration=[
            s3_resources.ServerSideEncryptionRule(
                ServerSideEncryptionByDefault=s3_resources.ServerSideEncryptionByDefault(
                    SSEAlgorithm="AES256"
                )
            )
        ]
    )


def _artifact_bucket_policy() -> If:
    objects = Sub("${ArtifactBucket.Arn}/*")
    deny_insecure = Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.GetObject, s3.PutObject],
        Resource=[objects],
        Condition=Condition(Bool("aws:SecureTransport", False)),
    )
    organization_reads = Statement(
        Sid="OrganizationReadsArtifacts",
        Effect=Allow,
        Principal=Principal("*"),
        Action=[s3.GetObject],
        Resource=[objects],
        Condition=Condition(StringEquals("aws:PrincipalOrgID", Ref("OrganizationId"))),
    )
    # awacs documents cannot hold Fn::If statements, so the condition picks a whole document.
    return If(
        "ShareWithOrganization",
        PolicyDocument(Version=POLICY_VERSION, Statement=[deny_insecure, organization_reads]),
        PolicyDocument(Version=POLICY_VERSION, Statement=[deny_insecure]),
    )


def _add_launch_role(template: Template, config: CatalogConfig) -> None:
    role_name = config.portfolio["launch_role"]["local_role_name"]
    template.add_resource(
        iam_resources.Role(
            "LaunchRole",
            Condition="LaunchRoleHere",
            RoleName=role_name,
            Description="Service Catalog launch role: creates the on-call tools' resources",
            AssumeRolePolicyDocument=make_simple_assume_policy("servicecatalog.amazonaws.com"),
            Policies=[
                iam_resources.Policy(
                    PolicyName="launch-on-call-tools",
                    PolicyDocument=PolicyDocument(
                        Version=POLICY_VERSION, Statement=_launch_statements(config)
                    ),
                )
            ],
        )
    )
    template.add_output(
        Output(
            "LaunchRoleArn",
            Condition="LaunchRoleHere",
            Value=GetAtt("LaunchRole", "Arn"),
            Description="The LAUNCH constraint uses this role (by name, in every account)",
        )
    )


def _arn(service: str, resource: str, regional: bool = True) -> Sub:
    region = "${AWS::Region}" if regional else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region}:${{AWS::AccountId}}:{resource}")


def _launch_statements(config: CatalogConfig) -> list[Statement]:
    named = f"{config.catalog['resource_prefix']}-*"
    bucket = config.catalog["artifact_bucket_prefix"]
    return [
        allow(
            [
                cloudformation.CreateStack,
                cloudformation.UpdateStack,
                cloudformation.DeleteStack,
                cloudformation.DescribeStacks,
                cloudformation.DescribeStackEvents,
                cloudformation.GetTemplateSummary,
                cloudformation.SetStackPolicy,
            ],
            [_arn("cloudformation", "stack/SC-*")],
            sid="ProvisionedProductStacks",
        ),
        allow(
            [s3.GetObject],
            [Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}-${{AWS::Region}}/*")],
            sid="ReadPublishedArtifacts",
        ),
        allow(
            [
                lambda_actions.CreateFunction,
                lambda_actions.DeleteFunction,
                lambda_actions.GetFunction,
                lambda_actions.GetFunctionConfiguration,
                lambda_actions.UpdateFunctionCode,
                lambda_actions.UpdateFunctionConfiguration,
                lambda_actions.PutFunctionConcurrency,
                lambda_actions.DeleteFunctionConcurrency,
                lambda_actions.AddPermission,
                lambda_actions.RemovePermission,
                lambda_actions.PutFunctionEventInvokeConfig,
                lambda_actions.UpdateFunctionEventInvokeConfig,
                lambda_actions.DeleteFunctionEventInvokeConfig,
                lambda_actions.GetFunctionEventInvokeConfig,
                lambda_actions.TagResource,
                lambda_actions.ListTags,
            ],
            [_arn("lambda", f"function:{named}")],
            sid="ToolFunctions",
        ),
        allow(
            [
                iam.CreateRole,
                iam.DeleteRole,
                iam.GetRole,
                iam.PutRolePolicy,
                iam.DeleteRolePolicy,
                iam.GetRolePolicy,
                iam.UpdateRoleDescription,
                iam.PutRolePermissionsBoundary,
                iam.DeleteRolePermissionsBoundary,
                iam.TagRole,
            ],
            [_arn("iam", f"role/{named}", regional=False)],
            sid="ToolRoles",
        ),
        allow(
            [iam.PassRole],
            [_arn("iam", f"role/{named}", regional=False)],
            Condition(StringEquals("iam:PassedToService", "lambda.amazonaws.com")),
            sid="PassToolRolesToLambda",
        ),
        allow(
            [
                logs.CreateLogGroup,
                logs.DeleteLogGroup,
                logs.PutRetentionPolicy,
                logs.DeleteRetentionPolicy,
                logs.AssociateKmsKey,
                logs.DisassociateKmsKey,
                logs.TagResource,
                logs.DescribeLogGroups,
            ],
            [_arn("logs", f"log-group:/aws/lambda/{named}")],
            sid="ToolLogGroups",
        ),
        allow(
            [
                logs.PutSubscriptionFilter,
                logs.DeleteSubscriptionFilter,
                logs.DescribeSubscriptionFilters,
            ],
            [_arn("logs", "log-group:*")],
            sid="SubscribeWatchedLogGroups",
        ),
        allow(
            [
                sqs.CreateQueue,
                sqs.DeleteQueue,
                sqs.GetQueueAttributes,
                sqs.SetQueueAttributes,
                sqs.TagQueue,
            ],
            [_arn("sqs", named)],
            sid="ToolQueues",
        ),
        allow(
            [
                sns.CreateTopic,
                sns.DeleteTopic,
                sns.GetTopicAttributes,
                sns.SetTopicAttributes,
                sns.TagResource,
            ],
            [_arn("sns", named)],
            sid="ToolTopics",
        ),
        allow(
            [sns.Subscribe, sns.Unsubscribe, sns.GetSubscriptionAttributes],
            [_arn("sns", "*")],
            sid="SubscribeToAlarmTopics",
        ),
        allow([kms.CreateKey], ["*"], sid="CreateToolKeys"),
        allow(
            [
                kms.DescribeKey,
                kms.EnableKeyRotation,
                kms.GetKeyPolicy,
                kms.PutKeyPolicy,
                kms.ScheduleKeyDeletion,
                kms.TagResource,
                kms.CreateGrant,
                kms.Decrypt,
                kms.GenerateDataKey,
            ],
            [_arn("kms", "key/*")],
            sid="ManageToolKeys",
        ),
        allow(
            [kms.CreateAlias, kms.DeleteAlias, kms.UpdateAlias],
            [_arn("kms", f"alias/{named}"), _arn("kms", "key/*")],
            sid="ToolKeyAliases",
        ),
        allow(
            [
                cloudwatch_actions.PutMetricAlarm,
                cloudwatch_actions.DeleteAlarms,
                cloudwatch_actions.DescribeAlarms,
                cloudwatch_actions.TagResource,
            ],
            [_arn("cloudwatch", f"alarm:{named}")],
            sid="ToolAlarms",
        ),
        allow(
            [
                events.PutRule,
                events.DeleteRule,
                events.DescribeRule,
                events.PutTargets,
                events.RemoveTargets,
            ],
            [_arn("events", "rule/SC-*")],
            sid="ToolRules",
        ),
        allow(
            [
                dynamodb.CreateTable,
                dynamodb.DeleteTable,
                dynamodb.DescribeTable,
                dynamodb.UpdateTable,
                dynamodb.UpdateTimeToLive,
                dynamodb.DescribeTimeToLive,
                dynamodb.UpdateContinuousBackups,
                dynamodb.DescribeContinuousBackups,
                dynamodb.TagResource,
            ],
            [_arn("dynamodb", f"table/{named}")],
            sid="ToolTables",
        ),
        allow(
            # Placing a function in a VPC is validated with these; they have no resource scope.
            [
                ec2_actions.DescribeSubnets,
                ec2_actions.DescribeSecurityGroups,
                ec2_actions.DescribeVpcs,
                ec2_actions.DescribeNetworkInterfaces,
            ],
            ["*"],
            sid="ValidateVpcPlacement",
        ),
    ]
