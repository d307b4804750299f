"""The catalog's own infrastructure (the bootstrap stack), deployed once per region.

It holds the regional artifact bucket that templates and Lambda packages are published to (with
an organization read policy, so launches in member accounts can fetch the code), and the Service
Catalog launch role that creates the products' resources in an account. IAM is global, so the
role is created only where CreateLaunchRole is true (the first configured region).
"""

from __future__ import annotations

from typing import Any

from awacs import s3
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

from catalog.config import CatalogConfig
from products.builder import checkov_skips
from products.launch_role import launch_statements

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
    template.add_resource(
        _private_bucket(
            "AccessLogBucket",
            Sub(f"{prefix}-logs-${{AWS::Region}}"),
            # Logging the access-log bucket into itself would log its own writes forever.
            {"CKV_AWS_18": "this is the access-log bucket; it cannot log to itself"},
            # S3 log delivery writes with ACLs, which BucketOwnerEnforced would refuse.
            ownership="BucketOwnerPreferred",
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
        _private_bucket(
            "ArtifactBucket",
            Sub(f"{prefix}-${{AWS::Region}}"),
            # Lambda in member accounts fetches code with its own credentials; SSE-KMS would
            # need a cross-account key grant for every launching account.
            {"CKV_AWS_145": "SSE-S3 keeps code fetchable across the organization"},
            ownership="BucketOwnerEnforced",
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


def _private_bucket(
    logical_id: str, name: Sub, skips: dict[str, str], ownership: str, **extra: Any
) -> s3_resources.Bucket:
    """An encrypted, versioned bucket that can never be made public."""
    return s3_resources.Bucket(
        logical_id,
        Metadata=checkov_skips(skips),
        BucketName=name,
        BucketEncryption=_sse_s3(),
        PublicAccessBlockConfiguration=s3_resources.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        VersioningConfiguration=s3_resources.VersioningConfiguration(Status="Enabled"),
        OwnershipControls=s3_resources.OwnershipControls(
            Rules=[s3_resources.OwnershipControlsRule(ObjectOwnership=ownership)]
        ),
        **extra,
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
                        Version=POLICY_VERSION, Statement=launch_statements(config)
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
