"""The configuration is validated at load: errors name the file, the dotted path and the value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import load_config
from catalog.errors import ConfigError
from products.spec import discover_products


def _real() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def test_the_shipped_config_loads() -> None:
    config = load_config(DEFAULT_CONFIG)
    assert {"dev", "staging", "prod"} <= set(config.environments)
    assert set(config.products) == set(discover_products())


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: configuration file not found"):
        load_config(tmp_path / "nope.yaml")


def test_bad_yaml_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "catalog:\n  a: [1, 2\n")
    with pytest.raises(ConfigError, match=r"catalog\.yaml: not valid YAML: .*line 3"):
        load_config(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c["environments"]["prod"].__setitem__("memory_mb", 64),
            r"environments\.prod\.memory_mb: 64 is out of range \(minimum 128\)",
        ),
        (
            lambda c: c["environments"]["dev"].__setitem__("tracing", "Sometimes"),
            r"environments\.dev\.tracing: 'Sometimes' is not one of \['Active', 'PassThrough'\]",
        ),
        (
            lambda c: c["environments"]["dev"].__setitem__("log_retention_days", 10),
            r"environments\.dev\.log_retention_days: 10 is not one of",
        ),
        (
            lambda c: c["environments"]["staging"]["alarms"].pop("errors_threshold"),
            r"environments\.staging\.alarms: 'errors_threshold' is a required property",
        ),
        (
            lambda c: c["products"]["alert-handler"].__setitem__("colour", "blue"),
            r"products\.alert-handler: Additional properties are not allowed \('colour'",
        ),
        (
            lambda c: c["catalog"].__setitem__("artifact_bucket_prefix", "Bad_Bucket"),
            r"catalog\.artifact_bucket_prefix: 'Bad_Bucket' does not match",
        ),
        (
            lambda c: c["products"]["log-processor"]["overrides"].__setitem__("qa", {}),
            r"products\.log-processor\.overrides\.qa: environment 'qa' is not defined",
        ),
    ],
)
def test_invalid_values_are_named(tmp_path: Path, mutate: Any, message: str) -> None:
    data = _real()
    mutate(data)
    with pytest.raises(ConfigError, match=rf"catalog\.yaml: {message}"):
        load_config(_write(tmp_path, data))


def test_a_user_added_environment_is_accepted(tmp_path: Path) -> None:
    data = _real()
    data["environments"]["qa"] = data["environments"]["staging"]
    config = load_config(_write(tmp_path, data))
    assert config.environment_names[-1] == "qa"


def test_overrides_apply_to_one_environment_only() -> None:
    config = load_config(DEFAULT_CONFIG)
    assert config.settings_for("log-processor", "prod")["memory_mb"] == 2048
    assert config.settings_for("log-processor", "dev")["memory_mb"] == 256


def test_launch_parameters_merge_default_and_environment(tmp_path: Path) -> None:
    data = _real()
    data["products"]["auto-healer"]["launch"]["prod"] = {"DryRun": False, "CooldownMinutes": 60}
    config = load_config(_write(tmp_path, data))
    assert config.launch_parameters("auto-healer", "prod") == {
        "DryRun": "false",
        "CooldownMinutes": "60",
        "Environment": "prod",
    }
    assert config.launch_parameters("auto-healer", "dev")["DryRun"] == "true"
    with pytest.raises(ConfigError, match="environment 'perf' is not defined"):
        config.launch_parameters("auto-healer", "perf")
