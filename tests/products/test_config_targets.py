"""Where each environment is deployed (account, regions) and the pipeline section of the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import DeployTarget, load_config
from catalog.errors import ConfigError


def _real() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_absent_account_and_regions_mean_the_pipeline_account_and_the_portfolio_regions(
    tmp_path: Path,
) -> None:
    data = _real()
    data["environments"]["dev"].pop("account", None)
    config = load_config(_write(tmp_path, data))
    assert config.deploy_target("dev") == DeployTarget(
        "dev", None, tuple(config.portfolio["regions"])
    )


def test_account_and_regions_are_read_per_environment(tmp_path: Path) -> None:
    data = _real()
    data["portfolio"]["regions"] = ["us-east-1", "eu-west-1"]
    data["environments"]["prod"].update(account="210987654321", regions=["eu-west-1"])
    config = load_config(_write(tmp_path, data))
    assert config.deploy_target("prod") == DeployTarget("prod", "210987654321", ("eu-west-1",))
    assert config.deploy_target("staging").regions == ("us-east-1", "eu-west-1")


def test_the_deploy_role_defaults_and_can_be_renamed(tmp_path: Path) -> None:
    assert load_config(DEFAULT_CONFIG).pipeline.deploy_role_name == "OncallCatalogDeployRole"
    data = _real()
    data["pipeline"] = {"deploy_role_name": "ReleaseDeployer"}
    settings = load_config(_write(tmp_path, data)).pipeline
    assert settings.deploy_role_arn("210987654321") == (
        "arn:aws:iam::210987654321:role/ReleaseDeployer"
    )


def test_the_account_settings_do_not_reach_product_templates(tmp_path: Path) -> None:
    data = _real()
    data["environments"]["dev"]["account"] = "210987654321"
    data["environments"]["prod"]["regions"] = ["us-east-1"]
    config = load_config(_write(tmp_path, data))
    for environment in ("dev", "prod"):
        settings = config.settings_for("log-processor", environment)
        assert "account" not in settings and "regions" not in settings
    assert config.settings_for("log-processor", "dev")["memory_mb"] == 256


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c["environments"]["prod"].__setitem__("account", "12345"),
            r"environments\.prod\.account: '12345' does not match",
        ),
        (
            lambda c: c["environments"]["prod"].__setitem__("account", 210987654321),
            r"environments\.prod\.account: 210987654321 is not of type string",
        ),
        (
            lambda c: c["environments"]["dev"].__setitem__("regions", ["Ireland"]),
            r"environments\.dev\.regions\.0: 'Ireland' does not match",
        ),
        (
            lambda c: c["environments"]["dev"].__setitem__("regions", []),
            r"environments\.dev\.regions: \[\] is invalid",
        ),
        (
            lambda c: c["environments"]["dev"].__setitem__("regions", ["eu-west-1"]),
            r"environments\.dev\.regions\.0: 'eu-west-1' is not one of the portfolio's regions "
            r"\(portfolio\.regions: us-east-1\)",
        ),
        (
            lambda c: c["products"]["log-processor"]["overrides"]["prod"].__setitem__(
                "account", "210987654321"
            ),
            r"products\.log-processor\.overrides\.prod: Additional properties are not allowed",
        ),
        (
            lambda c: c.__setitem__("pipeline", {"deploy_role_name": "no spaces"}),
            r"pipeline\.deploy_role_name: 'no spaces' does not match",
        ),
        (
            lambda c: c.__setitem__("pipeline", {"connection": "x"}),
            r"pipeline: Additional properties are not allowed \('connection'",
        ),
    ],
)
def test_invalid_targets_are_named(tmp_path: Path, mutate: Any, message: str) -> None:
    data = _real()
    mutate(data)
    with pytest.raises(ConfigError, match=rf"catalog\.yaml: {message}"):
        load_config(_write(tmp_path, data))


def test_an_unknown_environment_has_no_target() -> None:
    with pytest.raises(ConfigError, match="environment 'perf' is not defined"):
        load_config(DEFAULT_CONFIG).deploy_target("perf")
