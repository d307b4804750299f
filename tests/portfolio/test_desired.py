"""Config interpretation: refusals happen here, before any AWS call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from catalog.config import load_config
from catalog.errors import BuildOutputError
from catalog.schema import PORTFOLIO_SCHEMA
from portfolio.desired import desired_catalog
from portfolio.errors import PortfolioConfigError


def test_schema_accepts_the_test_config_and_rejects_both_role_kinds(
    portfolio_config: dict[str, Any],
) -> None:
    jsonschema.validate(portfolio_config, PORTFOLIO_SCHEMA)
    portfolio_config["launch_role"]["role_arn"] = "arn:aws:iam::123456789012:role/X"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(portfolio_config, PORTFOLIO_SCHEMA)


def test_schema_accepts_the_repository_catalog() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "catalog.yaml")
    jsonschema.validate(config.portfolio, PORTFOLIO_SCHEMA)


def test_iam_pattern_with_account_id_is_refused(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    portfolio_config["principals"] = [
        {"type": "IAM_PATTERN", "arn": "arn:aws:iam::123456789012:role/Ops*"}
    ]
    manifest = make_dist(tmp_path, {"alpha": ("1.0.0", "a")})
    with pytest.raises(PortfolioConfigError, match=r"IAM_PATTERN 'arn:aws:iam::123456789012"):
        desired_catalog(portfolio_config, manifest, tmp_path)


def test_retention_order_is_checked(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    portfolio_config["retention"] = {"keep_active": 4, "deactivate_after": 2}
    manifest = make_dist(tmp_path, {"alpha": ("1.0.0", "a")})
    with pytest.raises(PortfolioConfigError, match=r"deactivate_after: 2 is less than keep_active"):
        desired_catalog(portfolio_config, manifest, tmp_path)


def test_stale_dist_is_refused(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    manifest = make_dist(tmp_path, {"alpha": ("1.0.0", "a")})
    (tmp_path / "templates" / "alpha.json").write_text("{}")
    with pytest.raises(
        BuildOutputError, match=r"templates/alpha.json: sha256 is .*python build.py build"
    ):
        desired_catalog(portfolio_config, manifest, tmp_path)


def test_constraint_for_unknown_product_is_refused(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    manifest = make_dist(tmp_path, {"beta": ("1.0.0", "b")})
    with pytest.raises(PortfolioConfigError, match=r"template_constraints.alpha: product 'alpha'"):
        desired_catalog(portfolio_config, manifest, tmp_path)


def test_launch_role_and_shares_are_interpreted(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    portfolio_config["shares"] = {"organizational_units": ["ou-abcd-12345678"]}
    desired = desired_catalog(
        portfolio_config, make_dist(tmp_path, {"alpha": ("1.0.0", "a")}), tmp_path, commit="c0ffee"
    )
    assert desired.launch_parameters_json == '{"LocalRoleName":"OncallCatalogLaunchRole"}'
    assert [(s.kind, s.principal_id) for s in desired.shares] == [
        ("ORGANIZATIONAL_UNIT", "ou-abcd-12345678")
    ]
    alpha = desired.products["alpha"]
    assert desired.version_description(alpha) == f"content-hash={alpha.content_hash} commit=c0ffee"
    assert desired.bucket("eu-west-1") == "test-artifacts-eu-west-1"
