"""catalog.permissions_boundary_arn: launched roles carry the boundary, and the launch role may
create roles only with it. Unset (the repository's catalog.yaml), everything is as before; the
golden bootstrap and spoke templates prove it byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import CatalogConfig, load_config
from catalog.errors import ConfigError
from products.infra import build_bootstrap_template
from products.spoke import build_spoke_template

BOUNDARY = "arn:aws:iam::123456789012:policy/boundaries/OncallToolsBoundary"
ROLE_WRITES = {"iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"}


def _config(tmp_path: Path, **catalog: Any) -> CatalogConfig:
    document = yaml.safe_load(DEFAULT_CONFIG.read_text())
    document["catalog"].update(catalog)
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_config(path)


def _launch_role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policy = template["Resources"][role]["Properties"]["Policies"][0]
    return list(policy["PolicyDocument"]["Statement"])


def _bootstrap_statements(config: CatalogConfig) -> list[dict[str, Any]]:
    return _launch_role_statements(build_bootstrap_template(config).to_dict(), "LaunchRole")


def test_role_writes_require_exactly_the_boundary(tmp_path: Path) -> None:
    statements = _bootstrap_statements(_config(tmp_path, permissions_boundary_arn=BOUNDARY))
    granting = [s for s in statements if ROLE_WRITES & set(s["Action"])]
    assert [set(s["Action"]) for s in granting] == [ROLE_WRITES]
    assert granting[0]["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}
    every_action = {a for s in statements for a in s["Action"]}
    assert "iam:DeleteRolePermissionsBoundary" not in every_action
    assert "iam:AttachRolePolicy" not in every_action


def test_the_spoke_launch_role_is_bounded_the_same_way(tmp_path: Path) -> None:
    config = _config(tmp_path, permissions_boundary_arn=BOUNDARY)
    spoke = build_spoke_template(config).to_dict()
    [role] = [
        name
        for name, resource in spoke["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        and "iam:CreateRole" in json.dumps(resource["Properties"].get("Policies", []))
    ]
    statements = _launch_role_statements(spoke, role)
    assert statements == _bootstrap_statements(config)


def test_without_a_boundary_role_writes_are_granted_unconditioned(config: CatalogConfig) -> None:
    statements = _bootstrap_statements(config)
    [tool_roles] = [s for s in statements if s["Sid"] == "ToolRoles"]
    assert ROLE_WRITES | {"iam:DeleteRolePermissionsBoundary"} <= set(tool_roles["Action"])
    assert "Condition" not in tool_roles


def test_every_launch_passes_the_boundary(tmp_path: Path) -> None:
    config = _config(tmp_path, permissions_boundary_arn=BOUNDARY)
    for product in config.products:
        for environment in config.environment_names:
            parameters = config.launch_parameters(product, environment)
            assert parameters["PermissionsBoundaryArn"] == BOUNDARY


def test_without_a_boundary_no_launch_parameter_is_added(config: CatalogConfig) -> None:
    assert "PermissionsBoundaryArn" not in config.launch_parameters("alert-handler", "dev")


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:iam::123456789012:role/NotAPolicy",
        "arn:aws:iam::aws:policy/PowerUserAccess",  # the products' parameter takes an account id
        "OncallToolsBoundary",
    ],
)
def test_a_boundary_that_is_not_a_policy_arn_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"catalog\.permissions_boundary_arn"):
        _config(tmp_path, permissions_boundary_arn=value)


def test_a_product_launch_value_other_than_the_boundary_is_refused(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_CONFIG.read_text())
    document["catalog"]["permissions_boundary_arn"] = BOUNDARY
    other = "arn:aws:iam::123456789012:policy/Other"
    document["products"]["alert-handler"]["launch"]["dev"] = {"PermissionsBoundaryArn": other}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(ConfigError, match=r"alert-handler\.launch\.dev\.PermissionsBoundaryArn"):
        load_config(path)
