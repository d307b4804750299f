"""Deploy Operational Tools as Lambda Functions: a local repository of this project (its
environments in three accounts) receives a merge on main; the trigger starts the local
pipeline; then in dev, staging and prod, each in its own local account, every tool's function,
log group, alarms and role are what catalog.yaml and the product declarations say.

Expected values come from the config (catalog.config: settings_for, launch_parameters,
deploy_target) and from the products registry (products.spec.discover_products, rendered by
products.build.render_product), never from constants written here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, scenarios, then, when

from catalog.config import CatalogConfig
from portfolio.pipeline.local_run import PipelineResult, summary_table
from portfolio.pipeline.trigger import BranchTrigger
from products.build import render_product
from products.spec import Product, discover_products
from tests.portfolio.pipeline.project_repo import (
    REGION,
    account_clients,
    config_of,
    merge_on_main,
    project_copy,
    run_commit,
)

scenarios("deploy.feature")
pytestmark = pytest.mark.slow


@dataclass
class DeployWorld:
    repository: Path
    trigger: BranchTrigger
    endpoint: str
    work: Path
    result: PipelineResult | None = None


@given("the operational tool Lambda functions,", target_fixture="deploy_world")
def the_tools(tmp_path: Path, local_endpoint: str) -> DeployWorld:
    repository = project_copy(tmp_path / "repo")
    assert discover_products(), "no tools in products/tools"
    return DeployWorld(repository, BranchTrigger(repository, "main"), local_endpoint, tmp_path)


@when("the pipeline is triggered,")
def the_pipeline_is_triggered(deploy_world: DeployWorld) -> None:
    def document_the_release(repository: Path) -> None:
        notes = repository / "docs" / "release-notes.md"
        notes.write_text("# Release notes\n\nThe pipeline deploys every tool.\n")

    merge_on_main(deploy_world.repository, "release-notes", document_the_release)
    commit = deploy_world.trigger.new_commit()
    assert commit is not None, "the merge on main did not trigger the pipeline"
    deploy_world.result, _ = run_commit(
        deploy_world.repository, commit, deploy_world.endpoint, deploy_world.work / "run"
    )
    assert deploy_world.result.succeeded, (
        f"{deploy_world.result.failure}\n{summary_table(deploy_world.result)}"
    )


@then(
    "the functions should be automatically deployed to the AWS account with the correct "
    "configuration and IAM roles."
)
def deployed_as_configured(deploy_world: DeployWorld) -> None:
    config = config_of(deploy_world.repository)
    accounts = {config.deploy_target(env).account for env in config.environment_names}
    assert len(accounts) == len(config.environment_names) == 3, accounts
    for environment in config.environment_names:
        account = config.deploy_target(environment).account
        assert account is not None
        clients = account_clients(deploy_world.endpoint, account)
        for name, product in discover_products().items():
            _check_tool(Deployed(clients, name, environment), config, product)


class Deployed:
    """One launched tool in its environment's account, read through the AWS APIs."""

    def __init__(self, clients: Any, product: str, environment: str) -> None:
        self.clients = clients
        self.product = product
        self.environment = environment
        sc = clients.client("servicecatalog", REGION)
        detail = sc.describe_provisioned_product(Name=f"{product}-{environment}")
        record = sc.describe_record(
            Id=detail["ProvisionedProductDetail"]["LastSuccessfulProvisioningRecordId"]
        )
        (stack,) = [
            o["OutputValue"]
            for o in record["RecordOutputs"]
            if o["OutputKey"] == "CloudformationStackARN"
        ]
        resources = clients.client("cloudformation", REGION).list_stack_resources(StackName=stack)[
            "StackResourceSummaries"
        ]
        self.resources = {r["LogicalResourceId"]: r for r in resources}

    def physical(self, resource_type: str) -> list[str]:
        return [
            r["PhysicalResourceId"]
            for r in self.resources.values()
            if r["ResourceType"] == resource_type
        ]

    def client(self, service: str) -> Any:
        return self.clients.client(service, REGION)


def _template(config: CatalogConfig, product: Product) -> dict[str, Any]:
    return dict(json.loads(render_product(product, config, "packages/any.zip")))


def _check_tool(deployed: Deployed, config: CatalogConfig, product: Product) -> None:
    settings = config.settings_for(deployed.product, deployed.environment)
    template = _template(config, product)
    (function_name,) = deployed.physical("AWS::Lambda::Function")
    lam = deployed.client("lambda")
    function = lam.get_function_configuration(FunctionName=function_name)
    where = f"{deployed.product} in {deployed.environment}"
    assert function["MemorySize"] == settings["memory_mb"], where
    assert function["Timeout"] == settings["timeout_seconds"], where
    concurrency = lam.get_function_concurrency(FunctionName=function_name)
    assert concurrency["ReservedConcurrentExecutions"] == settings["reserved_concurrency"], where
    _check_variables(deployed, function["Environment"]["Variables"], template)
    (log_group,) = deployed.physical("AWS::Logs::LogGroup")
    groups = deployed.client("logs").describe_log_groups(logGroupNamePrefix=log_group)
    assert groups["logGroups"][0]["retentionInDays"] == settings["log_retention_days"], where
    _check_alarms(deployed, config, settings, template)
    _check_role(deployed, function["Role"], template)


def _check_variables(
    deployed: Deployed, variables: dict[str, str], template: dict[str, Any]
) -> None:
    declared = _function(template)["Properties"]["Environment"]["Variables"]
    assert set(variables) == set(declared), deployed.product
    for key, value in declared.items():
        if isinstance(value, str):
            assert variables[key] == value, (deployed.product, key)
        elif value == {"Ref": "Environment"}:
            assert variables[key] == deployed.environment, (deployed.product, key)


def _function(template: dict[str, Any]) -> dict[str, Any]:
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    return dict(function)


THRESHOLDS = {
    "Errors": "errors_threshold",
    "Throttles": "throttles_threshold",
    "ApproximateNumberOfMessagesVisible": "dlq_depth_threshold",
}


def _check_alarms(
    deployed: Deployed, config: CatalogConfig, settings: dict[str, Any], template: dict[str, Any]
) -> None:
    declared = {
        r["Properties"].get("MetricName"): r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    names = deployed.physical("AWS::CloudWatch::Alarm")
    alarms = deployed.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    assert len(alarms) == len(names) >= 4, deployed.product
    topic = _alert_topic(deployed, config)
    limits = settings["alarms"]
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic], alarm["AlarmName"]
        assert alarm["OKActions"] == [topic], alarm["AlarmName"]
        metric = alarm.get("MetricName")
        if metric in THRESHOLDS:
            assert alarm["Threshold"] == limits[THRESHOLDS[metric]], alarm["AlarmName"]
        if metric == "Duration":
            expected = limits["duration_ratio"] * settings["timeout_seconds"] * 1000
            assert alarm["Threshold"] == pytest.approx(expected), alarm["AlarmName"]
        if metric is not None and metric in declared:
            # The environment's value, unless the product declares a fixed one (a dead letter
            # is worth an alarm at once: one period everywhere).
            for key, setting in (
                ("Period", "period_seconds"),
                ("EvaluationPeriods", "evaluation_periods"),
            ):
                fixed = declared[metric].get(key)
                expected = fixed if isinstance(fixed, int) else limits[setting]
                assert alarm[key] == expected, (alarm["AlarmName"], key)


def _alert_topic(deployed: Deployed, config: CatalogConfig) -> str:
    given = config.launch_parameters(deployed.product, deployed.environment).get("AlertTopicArn")
    if given:
        return given
    (own,) = deployed.physical("AWS::SNS::Topic")
    return own


def _check_role(deployed: Deployed, role_arn: str, template: dict[str, Any]) -> None:
    """The role's inline policies grant exactly the actions the product declares."""
    iam = deployed.client("iam")
    role_name = role_arn.rsplit("/", 1)[-1]
    deployed_policies = {
        name: _actions(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    }
    declared = _declared_policies(template)
    assert "least-privilege" in deployed_policies, deployed.product
    for name, actions in deployed_policies.items():
        assert name in declared, (deployed.product, name)
        assert actions == declared[name], (deployed.product, name)


def _declared_policies(template: dict[str, Any]) -> dict[str, set[str]]:
    role = template["Resources"]["FunctionRole"]["Properties"]
    policies = {}
    for entry in role["Policies"]:
        # A conditional policy is {"Fn::If": [condition, policy, AWS::NoValue]}.
        policy = entry["Fn::If"][1] if "Fn::If" in entry else entry
        policies[policy["PolicyName"]] = _actions(policy["PolicyDocument"])
    return policies


def _actions(document: dict[str, Any] | str) -> set[str]:
    parsed = json.loads(document) if isinstance(document, str) else document
    actions: set[str] = set()
    for statement in parsed["Statement"]:
        granted = statement["Action"]
        actions.update([granted] if isinstance(granted, str) else granted)
    return actions
