"""The launch role can create, read, update and delete everything the product templates declare.

CloudFormation's resource handlers publish the permissions they call (the resource-provider
schemas, which cfn-lint ships). Every permission a handler of a resource type in our templates
lists is either granted to the launch role or named below with the reason we never need it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import cfnlint
import pytest

from catalog.config import CatalogConfig
from products.build import Manifest
from products.builder import SHARED_RESOURCE_TYPES
from products.errors import BuildError
from products.iam import ACTIONS_WITHOUT_RESOURCE_SCOPE
from products.launch_role import launched_resource_types, statements_for
from products.spec import Product, discover_products

SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"
HANDLERS = ("create", "read", "update", "delete")

# Each is a permission a handler needs only for a property our templates never set.
NOT_NEEDED = {
    "dynamodb:AssociateTableReplica": "global table replicas",
    "dynamodb:CreateTableReplica": "global table replicas",
    "iam:CreateServiceLinkedRole": "replicas and auto scaling (tables are on-demand)",
    "dynamodb:BatchWriteItem": "ImportSourceSpecification",
    "dynamodb:DeleteItem": "ImportSourceSpecification",
    "dynamodb:GetItem": "ImportSourceSpecification",
    "dynamodb:PutItem": "ImportSourceSpecification",
    "dynamodb:Query": "ImportSourceSpecification",
    "dynamodb:Scan": "ImportSourceSpecification",
    "dynamodb:UpdateItem": "ImportSourceSpecification",
    "dynamodb:ImportTable": "ImportSourceSpecification",
    "dynamodb:DescribeImport": "ImportSourceSpecification",
    "s3:GetObjectMetadata": "ImportSourceSpecification",
    "s3:ListBucket": "ImportSourceSpecification",
    "logs:CreateLogStream": "ImportSourceSpecification logging",
    "logs:DescribeLogStreams": "ImportSourceSpecification logging",
    "logs:PutLogEvents": "ImportSourceSpecification logging",
    "dynamodb:EnableKinesisStreamingDestination": "KinesisStreamSpecification",
    "dynamodb:DisableKinesisStreamingDestination": "KinesisStreamSpecification",
    "dynamodb:UpdateKinesisStreamingDestination": "KinesisStreamSpecification",
    "kinesis:DescribeStream": "KinesisStreamSpecification",
    "kinesis:PutRecords": "KinesisStreamSpecification",
    "dynamodb:PutResourcePolicy": "ResourcePolicy",
    "dynamodb:DeleteResourcePolicy": "ResourcePolicy",
    "dynamodb:UpdateContributorInsights": "ContributorInsightsSpecification",
    "lambda:GetCodeSigningConfig": "CodeSigningConfigArn",
    "lambda:PutFunctionCodeSigningConfig": "CodeSigningConfigArn",
    "lambda:DeleteFunctionCodeSigningConfig": "CodeSigningConfigArn",
    "lambda:GetLayerVersion": "Layers",
    "lambda:PassCapacityProvider": "CapacityProviderConfig",
    "lambda:PutRuntimeManagementConfig": "RuntimeManagementConfig",
    "lambda:AssociateRuntimeAlias": "RuntimeManagementConfig",
    "lambda:PublishVersion": "AutoPublishAlias / versions",
    "elasticfilesystem:DescribeMountTargets": "FileSystemConfigs",
    "s3files:ListMountTargets": "FileSystemConfigs",
    "s3:GetObjectVersion": "Code.S3ObjectVersion (keys are content-addressed instead)",
    "logs:CreateLogDelivery": "log delivery to Firehose or S3",
    "firehose:TagDeliveryStream": "log delivery to Firehose",
    "s3:REST.PUT.OBJECT": "log delivery to S3",
    "logs:PutBearerTokenAuthentication": "BearerTokenAuthenticationEnabled",
    "logs:PutDataProtectionPolicy": "DataProtectionPolicy",
    "logs:PutIndexPolicy": "FieldIndexPolicies",
    "logs:DeleteIndexPolicy": "FieldIndexPolicies",
    "logs:PutResourcePolicy": "ResourcePolicyDocument",
    "logs:DeleteResourcePolicy": "ResourcePolicyDocument",
    "logs:PutLogGroupDeletionProtection": "DeletionProtectionEnabled",
    "sns:PutDataProtectionPolicy": "DataProtectionPolicy",
    "iam:AttachRolePolicy": "ManagedPolicyArns",
    "iam:DetachRolePolicy": "ManagedPolicyArns",
}


@cache
def _provider_schema(resource_type: str) -> dict[str, Any]:
    providers = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    return dict(
        json.loads((SCHEMAS / "resources" / f"{providers[resource_type]}.json").read_text())
    )


def _handler_permissions(resource_type: str) -> set[str]:
    handlers = _provider_schema(resource_type).get("handlers", {})
    return {p for name in HANDLERS for p in handlers.get(name, {}).get("permissions", [])}


def _launch_statements(out: Path, manifest: Manifest) -> list[dict[str, Any]]:
    bootstrap = json.loads((out / manifest.infra["bootstrap"]).read_text())
    policy = bootstrap["Resources"]["LaunchRole"]["Properties"]["Policies"][0]
    return list(policy["PolicyDocument"]["Statement"])


def _product_resource_types(templates: dict[str, dict[str, Any]]) -> set[str]:
    return {
        resource["Type"]
        for template in templates.values()
        for resource in template["Resources"].values()
    }


def test_launch_role_grants_every_handler_permission(
    built: tuple[Path, Manifest], templates: dict[str, dict[str, Any]]
) -> None:
    granted = {action for s in _launch_statements(*built) for action in s["Action"]}
    missing = {
        f"{permission} ({resource_type})"
        for resource_type in _product_resource_types(templates)
        for permission in _handler_permissions(resource_type)
        if permission not in granted and permission not in NOT_NEEDED
    }
    assert not missing, f"launch role lacks: {sorted(missing)}"


def test_every_exclusion_is_still_listed_by_some_handler(
    templates: dict[str, dict[str, Any]],
) -> None:
    listed = set().union(*(_handler_permissions(t) for t in _product_resource_types(templates)))
    stale = sorted(set(NOT_NEEDED) - listed)
    assert not stale, f"NOT_NEEDED names permissions no handler lists any more: {stale}"


def test_launch_role_uses_star_only_where_nothing_tighter_exists(
    built: tuple[Path, Manifest],
) -> None:
    for statement in _launch_statements(*built):
        assert all(not a.endswith("*") for a in statement["Action"]), statement["Sid"]
        if "*" in statement["Resource"] and "Condition" not in statement:
            unscoped = set(statement["Action"]) - ACTIONS_WITHOUT_RESOURCE_SCOPE
            assert not unscoped, f"{statement['Sid']}: '*' for {sorted(unscoped)}"


@pytest.mark.parametrize("resource_type", ["AWS::Lambda::Function", "AWS::SQS::Queue"])
def test_the_schemas_are_read(resource_type: str) -> None:
    # Guards the check above against passing vacuously if the schema layout ever changes.
    assert len(_handler_permissions(resource_type)) >= 5


class _BucketTool(Product):
    # Defined outside products/tools: a product definition for these tests only, never built.
    name = "bucket-tool"
    handler = "bucket_tool"
    launch_resource_types = frozenset({"AWS::S3::Bucket"})


def _sids(config: CatalogConfig, resource_types: frozenset[str]) -> set[str]:
    return {str(s.Sid) for s in statements_for(config, resource_types)}


def test_a_type_no_product_declares_gets_no_statements(config: CatalogConfig) -> None:
    everything = launched_resource_types(discover_products().values())
    without_tables = everything - {"AWS::DynamoDB::Table"}
    assert _sids(config, everything) - _sids(config, without_tables) == {"ToolTables"}
    assert "ToolTables" not in _sids(config, SHARED_RESOURCE_TYPES)


def test_a_declared_type_without_statements_fails_the_build() -> None:
    with pytest.raises(
        BuildError, match=r"bucket-tool declares resource type\(s\) AWS::S3::Bucket"
    ):
        launched_resource_types([_BucketTool()])
