"""One test over every discovered product: a product that lacks any of its parts fails here.

Adding a tool type means a handler folder, a product module, a config entry, a golden template,
docs and tests; this meta-test names whichever of those is missing.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path
from typing import Any

import pytest

import products.tools
from catalog.config import CatalogConfig
from products.builder import SHARED_RESOURCE_TYPES
from products.iam import ACTIONS_WITHOUT_RESOURCE_SCOPE
from products.spec import Product, discover_products
from products.versions import read_version_records

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = discover_products()
REQUIRED_ALARMS = {"ErrorsAlarm", "ThrottlesAlarm", "DurationAlarm", "DeadLetterQueueAlarm"}


def _resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def _policy_documents(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every inline policy of every role, including those wrapped in Fn::If."""
    documents = []
    for role in _resources_of_type(template, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            effective = policy["Fn::If"][1] if "Fn::If" in policy else policy
            documents.append(effective["PolicyDocument"])
    return documents


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [statement for doc in _policy_documents(template) for statement in doc["Statement"]]


def test_every_module_in_products_tools_defines_one_product() -> None:
    modules = {module.name for module in pkgutil.iter_modules(products.tools.__path__)}
    defined_in = sorted(
        type(product).__module__.rsplit(".", 1)[-1] for product in PRODUCTS.values()
    )
    assert defined_in == sorted(modules)
    assert len(PRODUCTS) >= 4


@pytest.mark.parametrize("name", PRODUCTS)
def test_product_has_every_part(name: str, config: CatalogConfig) -> None:
    product: Product = PRODUCTS[name]
    handler = ROOT / "handlers" / product.handler
    missing = [
        what
        for what, present in [
            (f"handlers/{product.handler}/app.py", (handler / "app.py").is_file()),
            (
                f"handlers/{product.handler}/requirements.txt",
                (handler / "requirements.txt").is_file(),
            ),
            (f"config products.{name}", name in config.products),
            (
                f"tests/products/golden/{name}.json",
                (ROOT / "tests/products/golden" / f"{name}.json").is_file(),
            ),
            (
                f"docs/handlers/{product.handler}.md",
                (ROOT / "docs/handlers" / f"{product.handler}.md").is_file(),
            ),
            (
                f"tests/handlers/{product.handler}/",
                (ROOT / "tests/handlers" / product.handler).is_dir(),
            ),
            ("a version in products/versions.json", name in read_version_records()),
        ]
        if not present
    ]
    assert not missing, f"{name} lacks: {', '.join(missing)}"


@pytest.mark.parametrize("name", PRODUCTS)
def test_environment_parameter_and_mapping_follow_config(
    name: str, templates: dict[str, dict[str, Any]], config: CatalogConfig
) -> None:
    template = templates[name]
    environment = template["Parameters"]["Environment"]
    assert environment["AllowedValues"] == config.environment_names
    assert {"dev", "staging", "prod"} <= set(environment["AllowedValues"])
    mapping = template["Mappings"]["EnvironmentSettings"]
    assert set(mapping) == set(config.environment_names)
    for env in config.environment_names:
        settings = config.settings_for(name, env)
        assert mapping[env]["MemorySize"] == settings["memory_mb"]
        assert mapping[env]["Timeout"] == settings["timeout_seconds"]
        assert mapping[env]["LogRetentionInDays"] == settings["log_retention_days"]


@pytest.mark.parametrize("name", PRODUCTS)
def test_core_resources_exist_and_are_wired(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[name]
    resources = template["Resources"]
    assert resources["Function"]["Type"] == "AWS::Lambda::Function"
    assert resources["FunctionRole"]["Type"] == "AWS::IAM::Role"
    log_group = resources["FunctionLogGroup"]
    assert log_group["Properties"]["RetentionInDays"] and log_group["Properties"]["KmsKeyId"]
    queue = resources["DeadLetterQueue"]
    assert queue["Type"] == "AWS::SQS::Queue" and queue["Properties"]["KmsMasterKeyId"]
    on_failure = resources["FunctionInvokeConfig"]["Properties"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Destination"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert resources["AlertTopic"]["Properties"]["KmsMasterKeyId"]
    assert resources["Function"]["Properties"]["ReservedConcurrentExecutions"]


@pytest.mark.parametrize("name", PRODUCTS)
def test_alarms_notify_on_alarm_and_on_ok(name: str, templates: dict[str, dict[str, Any]]) -> None:
    alarms = _resources_of_type(templates[name], "AWS::CloudWatch::Alarm")
    expected = REQUIRED_ALARMS | ({"MissedRunsAlarm"} if PRODUCTS[name].scheduled else set())
    assert expected <= set(alarms), f"{name} lacks alarms {expected - set(alarms)}"
    for logical_id, alarm in alarms.items():
        properties = alarm["Properties"]
        assert properties["AlarmActions"], f"{name}.{logical_id} has no AlarmActions"
        assert properties["OKActions"] == properties["AlarmActions"], f"{name}.{logical_id}"
        assert len(properties["AlarmDescription"]["Fn::Sub"]) > 60, "say what to do"


@pytest.mark.parametrize("name", PRODUCTS)
def test_every_product_has_a_dashboard_of_its_alarms(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[name]
    dashboards = _resources_of_type(template, "AWS::CloudWatch::Dashboard")
    assert len(dashboards) == 1, f"{name} has {len(dashboards)} dashboards, not one"
    body, _ = next(iter(dashboards.values()))["Properties"]["DashboardBody"]["Fn::Sub"]
    for alarm in _resources_of_type(template, "AWS::CloudWatch::Alarm").values():
        alarm_name = alarm["Properties"]["AlarmName"]["Fn::Sub"][0]  # [text, {Instance: ...}]
        assert f":alarm:{alarm_name}" in body, f"{name}: {alarm_name} is not on the dashboard"
    assert "DashboardUrl" in template["Outputs"], f"{name} does not output its dashboard's URL"


@pytest.mark.parametrize("name", PRODUCTS)
def test_launch_resource_types_are_exactly_what_the_template_adds(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    used = {resource["Type"] for resource in templates[name]["Resources"].values()}
    declared = PRODUCTS[name].launch_resource_types
    undeclared = sorted(used - SHARED_RESOURCE_TYPES - declared)
    assert not undeclared, f"{name}: add {undeclared} to launch_resource_types"
    unused = sorted(declared - used)
    assert not unused, f"{name}: launch_resource_types names {unused}, which it never adds"


@pytest.mark.parametrize("name", PRODUCTS)
def test_iam_has_no_wildcard_actions(name: str, templates: dict[str, dict[str, Any]]) -> None:
    for statement in _statements(templates[name]):
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        for action in actions:
            assert action != "*" and not action.endswith(":*"), f"{name}: wildcard action {action}"
            assert "*" not in action, f"{name}: action pattern {action}"


@pytest.mark.parametrize("name", PRODUCTS)
def test_star_resources_only_where_aws_allows_nothing_tighter(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    for statement in _statements(templates[name]):
        if "*" in statement["Resource"]:
            unjustified = set(statement["Action"]) - ACTIONS_WITHOUT_RESOURCE_SCOPE
            assert not unjustified, f"{name}: Resource '*' for {sorted(unjustified)}"


@pytest.mark.parametrize("name", PRODUCTS)
def test_launch_form_explains_every_parameter(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    template = templates[name]
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = {p for group in interface["ParameterGroups"] for p in group["Parameters"]}
    for parameter, spec in template["Parameters"].items():
        assert spec.get("Description"), f"{name}.{parameter} has no Description"
        assert parameter in grouped, f"{name}.{parameter} is in no ParameterGroup"
        assert parameter in interface["ParameterLabels"], f"{name}.{parameter} has no label"
    # The form opens with the environment and ends with what most teams leave alone.
    groups = [group["Label"]["default"] for group in interface["ParameterGroups"]]
    assert groups[0] == "Environment" and groups[-1] == "Advanced", groups


@pytest.mark.parametrize("name", PRODUCTS)
def test_outputs_name_function_role_topic_and_alarms(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    outputs = templates[name]["Outputs"]
    assert {"FunctionArn", "FunctionRoleArn", "AlertTopicArn", "AlarmNames"} <= set(outputs)


@pytest.mark.parametrize("name", PRODUCTS)
def test_launch_parameters_in_config_exist_in_template(
    name: str, templates: dict[str, dict[str, Any]], config: CatalogConfig
) -> None:
    parameters = templates[name]["Parameters"]
    for env in config.environment_names:
        for key in config.launch_parameters(name, env):
            assert key in parameters, f"catalog.yaml products.{name}.launch sets unknown {key}"
    required = {key for key, spec in parameters.items() if "Default" not in spec}
    assert not required - set(config.launch_parameters(name, "dev")), (
        f"{name}: no value for {required}"
    )


@pytest.mark.parametrize("name", PRODUCTS)
def test_no_secret_values_in_environment_variables(
    name: str, templates: dict[str, dict[str, Any]]
) -> None:
    variables = templates[name]["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    for key, value in variables.items():
        if any(word in key for word in ("SECRET", "TOKEN", "PASSWORD", "KEY")):
            assert key.endswith(("_ARN", "_TAG_KEY")), (
                f"{name}: {key} must be a Secrets Manager ARN"
            )
            assert not isinstance(value, str) or value == "" or value.startswith("oncall:"), key


def test_only_modules_in_products_tools_become_products() -> None:
    class StrayTool(Product):  # defined outside products/tools: must not be published
        name = "stray-tool"
        handler = "stray_tool"

    assert "stray-tool" not in discover_products()
