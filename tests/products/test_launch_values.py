"""Launch values are checked before anything runs: `build` (and `plan`, which builds) checks
catalog.yaml's for every environment of every product, `launch` its --param values, against the
built template (names, AllowedValues, patterns, ranges, lengths, Rules, the portfolio's TEMPLATE
constraints) and the tool's settings schema (handlers/<tool>/: routes, targets). Errors name the
file and dotted path, or the --param, and the value."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from build import cli
from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import CatalogConfig
from products.build import Manifest, render_product
from products.launch_values import (
    LaunchValueError,
    LaunchValues,
    check_catalog_launches,
    check_launch,
    parameter_problem,
)
from products.spec import discover_products
from tests.support.http_receiver import HttpReceiver

PRODUCTS = discover_products()


def _templates(config: CatalogConfig) -> dict[str, tuple[Any, dict[str, Any]]]:
    return {
        name: (product, json.loads(render_product(product, config, "packages/test.zip")))
        for name, product in PRODUCTS.items()
    }


def _with_launch(
    config: CatalogConfig, product: str, section: str, values: dict[str, Any]
) -> CatalogConfig:
    products = copy.deepcopy(config.products)
    products[product].setdefault("launch", {}).setdefault(section, {}).update(values)
    return dataclasses.replace(config, products=products)


def test_the_shipped_catalog_launches_are_valid(config: CatalogConfig) -> None:
    check_catalog_launches(config, _templates(config))


@pytest.mark.parametrize(
    ("product", "section", "values", "message"),
    [
        (
            "health-checker",
            "default",
            {"ScheduleRate": "every 5 minutes"},
            "products.health-checker.launch.default.ScheduleRate='every 5 minutes': is not one "
            "of rate(1 minute), rate(5 minutes),",
        ),
        (
            "log-processor",
            "staging",
            {"LogGroupNmae": "/aws/app/demo"},
            "products.log-processor.launch.staging.LogGroupNmae: 'LogGroupNmae' is not a "
            "parameter of log-processor (known: AlertEmail, ",
        ),
        (
            "health-checker",
            "default",
            {"TargetsJson": ""},
            "products.health-checker.launch.dev: A health checker needs targets: set "
            "TargetsJson or TargetsParameterName.",
        ),
        (
            "alert-handler",
            "prod",
            {"Routes": '{"critical": ["slak"]}'},
            "products.alert-handler.launch.prod.Routes: channel 'slak' (severity 'critical') is "
            "not one of pagerduty, slack, teams, sns",
        ),
        (
            "alert-handler",
            "dev",
            {"Routes": '{"critical": ["slack"]}'},
            "products.alert-handler.launch.dev (DEFAULT_SEVERITY)='warning': not a severity in "
            "ROUTES (critical)",
        ),
        (
            "health-checker",
            "staging",
            {"TargetsJson": '[{"name": "api", "type": "http", "url": "ftp://h/x?token=1"}]'},
            "products.health-checker.launch.staging.TargetsJson[0].url='ftp://h': scheme 'ftp' "
            "is not http(s)",
        ),
        (
            "health-checker",
            "dev",
            {"TargetsJson": '[{"name": "self", "type": "tcp", "host": "127.0.0.1", "port": 22}]'},
            "products.health-checker.launch.dev.TargetsJson[0] host '127.0.0.1': loopback address",
        ),
        (
            "health-checker",
            "dev",
            {
                "TargetsJson": '[{"name": "self", "type": "tcp", "host": "127.0.0.1", "port": 22}]',
                "AllowPrivateNetworks": "true",
            },
            "",
        ),
        (
            "health-checker",
            "dev",
            {"FailureThreshold": 11},
            "products.health-checker.launch.dev.FailureThreshold='11': must be at most 10",
        ),
        (
            "auto-healer",
            "dev",
            {"AutomationDocumentName": "x"},
            "products.auto-healer.launch.dev.AutomationDocumentName='x': Leave empty, or give "
            "an SSM document name",
        ),
        (
            "auto-healer",
            "prod",
            {"AlertTopicArn": ""},
            "products.auto-healer.launch.prod: In prod, AlertTopicArn must name the existing "
            "on-call SNS topic.",
        ),
        (
            "alert-handler",
            "dev",
            {"AlarmTopicArn": "arn:aws:sns:us-east-1:111111111111:t"},
            # the default launch values leave AlertTopicArn empty: that is fine. Same topic twice:
            "",
        ),
    ],
)
def test_a_bad_catalog_launch_value_is_refused_naming_its_path_and_value(
    config: CatalogConfig, product: str, section: str, values: dict[str, Any], message: str
) -> None:
    changed = _with_launch(config, product, section, values)
    if not message:
        check_catalog_launches(changed, _templates(changed))
        return
    with pytest.raises(LaunchValueError) as raised:
        check_catalog_launches(changed, _templates(changed))
    assert f"{config.path}: {message}" in str(raised.value)


def test_a_rule_of_the_template_itself_is_checked(config: CatalogConfig) -> None:
    topic = "arn:aws:sns:us-east-1:111111111111:same"
    changed = _with_launch(
        config, "alert-handler", "dev", {"AlarmTopicArn": topic, "AlertTopicArn": topic}
    )
    with pytest.raises(LaunchValueError, match=r"launch\.dev: AlarmTopicArn and AlertTopicArn"):
        check_catalog_launches(changed, _templates(changed))


@pytest.mark.parametrize(
    ("spec", "value", "problem"),
    [
        ({"Type": "String", "AllowedValues": ["a", "b"]}, "c", "is not one of a, b"),
        ({"Type": "Number", "MinValue": 1, "MaxValue": 5}, "0", "must be at least 1"),
        ({"Type": "Number", "MinValue": 1, "MaxValue": 5}, "6", "must be at most 5"),
        ({"Type": "Number"}, "five", "is not a number"),
        ({"Type": "String", "MinLength": 2}, "a", "must be at least 2 characters"),
        ({"Type": "String", "MaxLength": 3}, "abcd", "is 4 characters, at most 3 are allowed"),
        # The whole value must match, as CloudFormation matches it.
        (
            {"Type": "String", "AllowedPattern": "[a-z]+", "ConstraintDescription": "Lowercase."},
            "abc1",
            "Lowercase.",
        ),
        ({"Type": "String", "AllowedPattern": "[a-z]+"}, "abc", None),
        ({"Type": "Number", "MinValue": 1, "MaxValue": 5}, "5", None),
        ({"Type": "CommaDelimitedList"}, "a,b", None),
    ],
)
def test_each_parameter_constraint(spec: dict[str, Any], value: str, problem: str | None) -> None:
    assert parameter_problem(spec, value) == problem


def test_a_long_value_is_not_repeated_in_the_error() -> None:
    template = {"Parameters": {"TargetsJson": {"Type": "String", "MaxLength": 90}}}
    value = '[{"url": "https://api.example.com/SECRETTOKEN"}]' * 2
    launch = LaunchValues("t", {"TargetsJson": value}, lambda name: f"--param {name}", "t")
    with pytest.raises(LaunchValueError) as raised:
        check_launch(launch, template, [])
    assert str(raised.value) == (
        "--param TargetsJson (96 characters): is 96 characters, at most 90 are allowed"
    )


def test_a_parameter_without_default_must_be_set() -> None:
    template = {"Parameters": {"Needed": {"Type": "String"}}}
    launch = LaunchValues("t", {}, lambda name: f"--param {name}", "launch t --env dev")
    with pytest.raises(LaunchValueError, match="launch t --env dev: parameter 'Needed' has no"):
        check_launch(launch, template, [])


@pytest.fixture
def aws_endpoint() -> Iterator[HttpReceiver]:
    """A real HTTP server standing in for AWS: a refused launch must never reach it."""
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["alert-handler", "--env", "prod", "--param", 'Routes={"critical":["slak"]}'],
            "error: --param Routes: channel 'slak' (severity 'critical') is not one of "
            "pagerduty, slack, teams, sns",
        ),
        (
            ["alert-handler", "--env", "dev", "--param", "Environment=qa"],
            "error: --param Environment='qa': the environment is chosen with --env (dev, "
            "staging, prod), not with --param",
        ),
        (
            ["health-checker", "--env", "dev", "--param", "TargetsJson="],
            "error: launch health-checker --env dev: A health checker needs targets",
        ),
        (
            ["health-checker", "--env", "dev", "--param", "ScheduleRate=every 5 minutes"],
            "error: --param ScheduleRate='every 5 minutes': is not one of rate(1 minute)",
        ),
        (
            ["auto-healer", "--env", "dev", "--param", "DryRun=no"],
            "error: --param DryRun='no': is not one of true, false",
        ),
        (
            ["log-processor", "--env", "dev", "--param", "Bogus=1"],
            "error: --param Bogus: 'Bogus' is not a parameter of log-processor",
        ),
    ],
)
def test_launch_refuses_a_bad_param_before_any_aws_call(
    built: tuple[Path, Manifest], aws_endpoint: HttpReceiver, args: list[str], message: str
) -> None:
    out, _ = built
    result = CliRunner().invoke(
        cli,
        [
            *("--dist", str(out), "launch", *args),
            *("--no-build", "--endpoint-url", aws_endpoint.url),
        ],
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith(message), result.output
    assert aws_endpoint.requests == []


def test_build_refuses_a_bad_launch_value_in_the_catalog(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    raw["products"]["health-checker"]["launch"]["default"]["ScheduleRate"] = "every 5 minutes"
    config = tmp_path / "catalog.yaml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--dist", str(tmp_path / "dist"), "build"]
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        f"error: {config}: products.health-checker.launch.default.ScheduleRate='every 5 "
        "minutes': is not one of rate(1 minute)"
    )
    assert not (tmp_path / "dist" / "manifest.json").exists()
