"""Build settings (catalog.yaml products.<tool>.build) are checked against the tool's own schema
when the product is built; errors name the file, the dotted path and the value."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from build import cli
from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import CatalogConfig, load_config
from catalog.errors import ConfigError
from products.build import render_product
from products.spec import discover_products

PRODUCTS = discover_products()


def _with_build(config: CatalogConfig, product: str, block: Any) -> CatalogConfig:
    products = copy.deepcopy(config.products)
    products[product]["build"] = block
    return dataclasses.replace(config, products=products)


def _render(config: CatalogConfig, product: str) -> str:
    return render_product(PRODUCTS[product], config, "packages/test.zip")


@pytest.mark.parametrize("name", PRODUCTS)
def test_every_declared_schema_is_a_json_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(PRODUCTS[name].build_settings_schema)


@pytest.mark.parametrize(
    ("product", "block", "message"),
    [
        (
            "auto-healer",
            {"opt_in_tag_keys": ["heal", "aws:heal"]},
            r"products\.auto-healer\.build\.opt_in_tag_keys\.1: 'aws:heal' does not match",
        ),
        (
            "auto-healer",
            {"opt_in_tag_keys": []},
            r"products\.auto-healer\.build\.opt_in_tag_keys: \[\] is invalid: .*non-empty",
        ),
        (
            "auto-healer",
            {"opt_in_tag_key": ["heal"]},
            r"products\.auto-healer\.build: Additional properties are not allowed "
            r"\('opt_in_tag_key'",
        ),
        (
            # A tool without build settings accepts none, not even another tool's.
            "log-processor",
            {"opt_in_tag_keys": ["heal"]},
            r"products\.log-processor\.build: Additional properties are not allowed",
        ),
        (
            "health-checker",
            ["not", "a", "mapping"],
            r"products\.health-checker\.build: \['not', 'a', 'mapping'\] is not of type object",
        ),
    ],
)
def test_a_bad_block_is_named_when_the_product_is_built(
    config: CatalogConfig, product: str, block: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"catalog\.yaml: {message}"):
        _render(_with_build(config, product, block), product)


def test_a_valid_block_reaches_the_template(config: CatalogConfig) -> None:
    keys = ["team:heal", "oncall:auto-heal"]
    template = _render(_with_build(config, "auto-healer", {"opt_in_tag_keys": keys}), "auto-healer")
    assert '"aws:ResourceTag/team:heal"' in template


def test_the_build_command_reports_the_error(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["products"]["auto-healer"]["build"] = {"opt_in_tag_keys": ["aws:heal"]}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    load_config(path)  # the central schema leaves the block to the tool
    result = CliRunner().invoke(
        cli, ["--config", str(path), "--dist", str(tmp_path / "dist"), "build"]
    )
    assert result.exit_code == 1
    assert "products.auto-healer.build.opt_in_tag_keys.0: 'aws:heal' does not match" in (
        result.output
    )
