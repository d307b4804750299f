"""The launch role's KMS statements cover the tools' keys, not every key in the account.

A key is the tools' when it carries TOOL_KEY_TAG with the resource prefix (every product key is
created with it) or an alias alias/<prefix>-* (keys launched before the tag). localcloud does
not evaluate IAM conditions, so this is asserted over the policy document the bootstrap stack
creates, against the tag and alias the built product templates actually give their keys.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

from catalog.config import CatalogConfig
from products.build import Manifest
from products.key_policy import TOOL_KEY_TAG

# Actions that take no key: KMS evaluates them against "*" (CreateKey is scoped by its request).
KEYLESS = {"kms:ListAliases"}


def _kms_statements(built: tuple[Path, Manifest]) -> list[dict[str, Any]]:
    out, manifest = built
    bootstrap = json.loads((out / manifest.infra["bootstrap"]).read_text())
    policy = bootstrap["Resources"]["LaunchRole"]["Properties"]["Policies"][0]
    return [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if any(a.startswith("kms:") for a in s["Action"])
    ]


def _on_keys(statement: dict[str, Any]) -> bool:
    return any("key/" in json.dumps(r) or r == "*" for r in statement["Resource"])


def _resources_of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_no_kms_statement_covers_every_key(built: tuple[Path, Manifest]) -> None:
    for statement in _kms_statements(built):
        if _on_keys(statement) and set(statement["Action"]) - KEYLESS:
            assert "Condition" in statement, f"{statement['Sid']} covers every key"


def test_key_actions_require_the_tag_or_an_alias_of_the_tools(
    built: tuple[Path, Manifest], config: CatalogConfig
) -> None:
    prefix = config.catalog["resource_prefix"]
    allowed = [
        {"StringEquals": {f"aws:ResourceTag/{TOOL_KEY_TAG}": prefix}},
        {"StringEquals": {f"aws:RequestTag/{TOOL_KEY_TAG}": prefix}},
        {"ForAnyValue:StringLike": {"kms:ResourceAliases": f"alias/{prefix}-*"}},
    ]
    for statement in _kms_statements(built):
        if not _on_keys(statement) or not set(statement["Action"]) - KEYLESS:
            continue
        scoping = {
            k: v for k, v in statement["Condition"].items() if k != "ForAllValues:StringNotEquals"
        }
        assert any(scoping == condition for condition in allowed), statement["Sid"]


def test_create_key_needs_the_tag_in_the_request(built: tuple[Path, Manifest]) -> None:
    [create] = [s for s in _kms_statements(built) if "kms:CreateKey" in s["Action"]]
    assert create["Action"] == ["kms:CreateKey"]
    assert f"aws:RequestTag/{TOOL_KEY_TAG}" in create["Condition"]["StringEquals"]


def test_the_tag_cannot_be_removed(built: tuple[Path, Manifest]) -> None:
    [untag] = [s for s in _kms_statements(built) if "kms:UntagResource" in s["Action"]]
    assert untag["Condition"]["ForAllValues:StringNotEquals"] == {"aws:TagKeys": [TOOL_KEY_TAG]}


def test_every_product_key_carries_the_tag_the_launch_role_requires(
    templates: dict[str, dict[str, Any]], config: CatalogConfig
) -> None:
    expected = {"Key": TOOL_KEY_TAG, "Value": config.catalog["resource_prefix"]}
    for name, template in templates.items():
        keys = _resources_of_type(template, "AWS::KMS::Key")
        assert keys, f"{name} creates no key"
        assert all(expected in key.get("Tags", []) for key in keys), name


def test_every_product_alias_matches_the_alias_condition(
    templates: dict[str, dict[str, Any]], config: CatalogConfig
) -> None:
    pattern = f"alias/{config.catalog['resource_prefix']}-*"
    for name, template in templates.items():
        for alias in _resources_of_type(template, "AWS::KMS::Alias"):
            text = alias["AliasName"]["Fn::Sub"]
            text = text[0] if isinstance(text, list) else text  # [text, variables] (instances)
            assert fnmatch.fnmatchcase(text, pattern), name
