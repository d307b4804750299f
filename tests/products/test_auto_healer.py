"""The auto-healer's opt-in tag key: a launch parameter whose choices are fixed at build time.

IAM condition keys (aws:ResourceTag/<key>) cannot come from parameters, so each choice gets its
own acting statements, present only when that choice is launched; cfn-lint checks the result.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

from catalog.config import CatalogConfig
from products.build import render_product
from products.lint import run_cfn_lint
from products.tools.auto_healer import AutoHealer

ACTING_SIDS = ("HealOptedInInstances", "RedeployOptedInServices")


def _render(config: CatalogConfig, keys: list[str] | None = None) -> dict[str, Any]:
    products = copy.deepcopy(config.products)
    if keys is not None:
        products["auto-healer"]["build"] = {"opt_in_tag_keys": keys}
    variant = dataclasses.replace(config, products=products)
    return json.loads(render_product(AutoHealer(), variant, "packages/auto_healer-test.zip"))


def _acting_statements(policies: list[Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """(template condition or None, statement) for every acting statement of the role."""
    found = []
    for policy in policies:
        condition, body = (
            (policy["Fn::If"][0], policy["Fn::If"][1])
            if "Fn::If" in policy
            else (
                None,
                policy,
            )
        )
        for statement in body["PolicyDocument"]["Statement"]:
            if statement.get("Sid", "").startswith(ACTING_SIDS):
                found.append((condition, statement))
    return found


def _tag_key(statement: dict[str, Any]) -> str:
    [key] = statement["Condition"]["StringEquals"]
    return str(key).removeprefix("aws:ResourceTag/")


def test_one_choice_gives_a_fixed_parameter_and_unconditional_statements(
    config: CatalogConfig,
) -> None:
    template = _render(config)
    parameter = template["Parameters"]["OptInTagKey"]
    assert parameter["AllowedValues"] == ["oncall:auto-heal"]
    assert parameter["Default"] == "oncall:auto-heal"
    acting = _acting_statements(template["Resources"]["FunctionRole"]["Properties"]["Policies"])
    assert {(condition, _tag_key(statement)) for condition, statement in acting} == {
        (None, "oncall:auto-heal")
    }
    variables = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert variables["OPT_IN_TAG_KEY"] == {"Ref": "OptInTagKey"}


def test_each_choice_acts_only_on_its_own_tag_and_only_when_chosen(
    config: CatalogConfig, tmp_path: Path
) -> None:
    keys = ["oncall:auto-heal", "team/payments:heal"]
    template = _render(config, keys)

    assert template["Parameters"]["OptInTagKey"]["AllowedValues"] == keys
    for number, key in enumerate(keys, start=1):
        assert template["Conditions"][f"OptInTagKey{number}Chosen"] == {
            "Fn::Equals": [{"Ref": "OptInTagKey"}, key]
        }
    acting = _acting_statements(template["Resources"]["FunctionRole"]["Properties"]["Policies"])
    by_condition: dict[str | None, set[str]] = {}
    for condition, statement in acting:
        by_condition.setdefault(condition, set()).add(_tag_key(statement))
    # No acting right outside a choice, and each choice's statements name only its own key.
    assert by_condition == {"OptInTagKey1Chosen": {keys[0]}, "OptInTagKey2Chosen": {keys[1]}}
    assert len(acting) == 2 * len(keys)

    path = tmp_path / "auto-healer.json"
    path.write_text(json.dumps(template))
    assert run_cfn_lint([path], config.portfolio["regions"]) == []
