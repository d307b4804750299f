"""Many instances of a tool: the InstanceName parameter, the names it gives, their AWS length
limits, and the default instance's names, unchanged from the single-instance catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from build import cli
from catalog.config import CatalogConfig
from products.environment import (
    INSTANCE_NAME_MAX_LENGTH,
    ROLE_NAME_LIMIT,
    ResourceNames,
    check_instance_name,
)
from products.errors import InstanceNameError
from tests.products.template_names import name_limit, resource_names

TOOLS = ["alert-handler", "auto-healer", "health-checker", "log-processor"]
DEFAULT_NAMES = json.loads((Path(__file__).parent / "default_instance_names.json").read_text())
# The longest region codes AWS has (botocore's endpoint data): 14 characters in the commercial
# partition, 15 in an isolated one.
LONG_REGIONS = ["ap-southeast-1", "us-isof-south-1"]


def _launch(environment: str, region: str = "eu-west-1", instance: str = "") -> dict[str, str]:
    return {
        "Environment": environment,
        "InstanceName": instance,
        "AWS::Region": region,
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
    }


def _limit(config: CatalogConfig, tool: str) -> int:
    prefix = config.catalog["resource_prefix"]
    regions = config.portfolio["regions"]
    return ResourceNames(prefix, tool).instance_name_limit(config.environment_names, regions)


@pytest.mark.parametrize("tool", TOOLS)
def test_the_default_instance_keeps_every_name(
    templates: dict[str, dict[str, Any]], tool: str
) -> None:
    # Recorded from the single-instance templates: existing launches update in place.
    for environment, names in DEFAULT_NAMES[tool].items():
        assert resource_names(templates[tool], _launch(environment)) == names


@pytest.mark.parametrize("tool", TOOLS)
def test_a_named_instance_names_every_resource_after_itself(
    templates: dict[str, dict[str, Any]], tool: str
) -> None:
    default = resource_names(templates[tool], _launch("dev"))
    named = resource_names(templates[tool], _launch("dev", instance="payments"))
    assert named.keys() == default.keys()
    for key, name in named.items():
        # <prefix>-<tool>-<instance>-<environment>...: the default name with the instance added.
        assert name == default[key].replace(f"-{tool}-dev", f"-{tool}-payments-dev"), key
    assert named["ErrorsAlarm.AlarmName"] == f"oncall-{tool}-payments-dev-errors"


@pytest.mark.parametrize("tool", TOOLS)
def test_the_longest_instance_name_fits_every_aws_limit(
    templates: dict[str, dict[str, Any]], config: CatalogConfig, tool: str
) -> None:
    # The longest environment and region the catalog launches in, the longest instance name.
    limit = _limit(config, tool)
    assert templates[tool]["Parameters"]["InstanceName"]["MaxLength"] == limit
    for environment in config.environment_names:
        for region in config.portfolio["regions"]:
            launch = _launch(environment, region, "i" * limit)
            for key, name in resource_names(templates[tool], launch).items():
                assert len(name) <= name_limit(templates[tool], key), (key, name)


def test_the_shipped_catalog_allows_the_full_instance_length(config: CatalogConfig) -> None:
    assert config.portfolio["regions"] == ["us-east-1"]
    assert {tool: _limit(config, tool) for tool in TOOLS} == dict.fromkeys(TOOLS, 20)


@pytest.mark.parametrize("region", LONG_REGIONS)
@pytest.mark.parametrize("tool", TOOLS)
def test_the_instance_limit_is_what_the_role_name_leaves_in_a_long_region(
    config: CatalogConfig, tool: str, region: str
) -> None:
    environments = config.environment_names
    limit = ResourceNames("oncall", tool).instance_name_limit(environments, ["us-east-1", region])
    role = f"oncall-{tool}-{'i' * limit}-staging-{region}"
    assert len(role) <= ROLE_NAME_LIMIT
    assert limit == INSTANCE_NAME_MAX_LENGTH or len(role) == ROLE_NAME_LIMIT
    # e.g. oncall-health-checker-<19 characters>-staging-ap-southeast-1 is 64 characters.
    if (tool, region) == ("health-checker", "ap-southeast-1"):
        assert limit == 19


def test_a_prefix_that_leaves_no_room_allows_only_the_default_instance() -> None:
    names = ResourceNames("p" * 16, "health-checker")
    assert names.instance_name_limit(["e" * 16], ["ap-southeast-1"]) == 0
    limit = ResourceNames("oncall", "x").instance_name_limit(["dev"], ["us-east-1"])
    assert limit == INSTANCE_NAME_MAX_LENGTH


@pytest.mark.parametrize("tool", TOOLS)
def test_named_instances_stay_within_the_launch_role_prefix(
    templates: dict[str, dict[str, Any]], config: CatalogConfig, tool: str
) -> None:
    # The launch role may create only resources named <prefix>-* (products/launch_role.py).
    prefix = config.catalog["resource_prefix"] + "-"
    names = resource_names(templates[tool], _launch("prod", instance="team-a"))
    for key, name in names.items():
        assert name.removeprefix("alias/").removeprefix("/aws/lambda/").startswith(prefix), key


@pytest.mark.parametrize("name", ["payments", "a", "team-2", "a" * INSTANCE_NAME_MAX_LENGTH, "x-"])
def test_valid_instance_names(name: str) -> None:
    assert check_instance_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "Payments", "2fa", "-a", "team_a", "a b", "a" * (INSTANCE_NAME_MAX_LENGTH + 1)]
)
def test_invalid_instance_names_are_refused_by_name(name: str) -> None:
    with pytest.raises(InstanceNameError, match=f"instance name {name!r} is not valid"):
        check_instance_name(name)


def test_an_instance_name_longer_than_the_tool_allows_is_refused() -> None:
    with pytest.raises(InstanceNameError, match="is 20 characters; at most 19 fit"):
        check_instance_name("a" * 20, 19)


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        ("Team_A", "error: instance name 'Team_A' is not valid"),
        ("a" * 21, f"error: instance name '{'a' * 21}' is not valid"),
    ],
)
def test_launch_refuses_a_bad_instance_before_any_aws_call(
    tmp_path: Path, instance: str, message: str
) -> None:
    # Port 9 (discard) on loopback: nothing answers, so an AWS call would fail differently.
    args = ["--dist", str(tmp_path), "launch", "health-checker", "--env", "dev"]
    args += ["--instance", instance, "--endpoint-url", "http://127.0.0.1:9"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].startswith(message), result.output


def test_the_dashboard_of_a_named_instance_draws_its_own_resources(config: CatalogConfig) -> None:
    from products.dashboard import dashboard_name, dashboard_widgets, launch_values, resolve
    from products.spec import discover_products

    product = discover_products()["health-checker"]
    values = launch_values(product, config, "dev", "eu-west-1", "123456789012", instance="api")
    widgets = resolve(dashboard_widgets(product, config), values)
    alarms = {w.alarm_name for w in widgets if w.kind == "alarm"}
    assert "oncall-health-checker-api-dev-errors" in alarms
    assert all("-api-dev" in alarm for alarm in alarms)
    functions = {
        v for w in widgets for m in w.metrics for k, v in m.dimensions if k == "FunctionName"
    }
    assert functions == {"oncall-health-checker-api-dev"}
    assert (
        dashboard_name(product, config, "dev", "api") == "oncall-health-checker-api-dev-dashboard"
    )
    assert dashboard_name(product, config, "dev") == "oncall-health-checker-dev-dashboard"
