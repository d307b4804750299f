"""What the console shows a launching user is plain words: every constrained parameter of every
built product template has a ConstraintDescription that is not a regex, and no description
(template or parameter) points into this repository, which the user has never seen."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from products.build import Manifest
from products.builder import ProductBuilder, constraint_words
from products.errors import BuildError
from products.spec import discover_products

CONSTRAINTS = ("AllowedPattern", "AllowedValues", "MinValue", "MaxValue", "MinLength", "MaxLength")
# Regex syntax that plain words never need.
REGEX_MARKS = re.compile(r"\^|\$|\\[dswDSW.]|\[[^\]]*\]|\{\d*,?\d*\}|\(\?|\.\*|\.\+")
# A path of this repository: a top-level folder followed by a slash, or a source file name.
REPOSITORY_PATH = re.compile(
    r"\b(docs|handlers|products|portfolio|localcloud|catalog|tests|bench|scripts)/|"
    r"\b[\w-]+\.(md|py|ya?ml)\b"
)


def _product_templates(built: tuple[Path, Manifest]) -> dict[str, dict[str, Any]]:
    out, manifest = built
    return {
        name: json.loads((out / artifact.template).read_text())
        for name, artifact in manifest.products.items()
    }


def _problems(templates: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for name, template in templates.items():
        if REPOSITORY_PATH.search(str(template.get("Description", ""))):
            found.append(f"{name}: the template description points into the repository")
        for key, spec in (template.get("Parameters") or {}).items():
            words = str(spec.get("ConstraintDescription", ""))
            if any(c in spec for c in CONSTRAINTS) and not words:
                found.append(f"{name}.{key}: constrained, without ConstraintDescription")
            if REGEX_MARKS.search(words) or words == spec.get("AllowedPattern"):
                found.append(f"{name}.{key}: ConstraintDescription reads as a regex: {words}")
            if REPOSITORY_PATH.search(str(spec.get("Description", ""))):
                found.append(f"{name}.{key}: Description points into the repository")
    return found


def test_every_constrained_parameter_says_in_plain_words_what_it_accepts(
    built: tuple[Path, Manifest],
) -> None:
    templates = _product_templates(built)
    assert set(templates) == set(discover_products())
    assert _problems(templates) == []


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"Type": "String", "AllowedPattern": "^[a-z]+$"}, "without ConstraintDescription"),
        (
            {"Type": "String", "AllowedPattern": "^[a-z]+$", "ConstraintDescription": "^[a-z]+$"},
            "reads as a regex",
        ),
        (
            {"Type": "String", "MaxLength": 3, "ConstraintDescription": "must match [a-z]{1,3}"},
            "reads as a regex",
        ),
        ({"Type": "String", "Description": "See docs/handlers/x.md."}, "points into"),
        ({"Type": "String", "Description": "As in health_checker.md."}, "points into"),
    ],
)
def test_the_check_finds_what_it_claims(spec: dict[str, Any], problem: str) -> None:
    [found] = _problems({"t": {"Parameters": {"P": spec}}})
    assert problem in found


def test_plain_words_are_derived_from_values_and_ranges() -> None:
    assert constraint_words({"AllowedValues": ["a", "b"]}) == "Choose one of: a, b."
    assert constraint_words({"MinValue": 1, "MaxValue": 10}) == "A number from 1 to 10."
    assert constraint_words({"MaxLength": 3000}) == "At most 3000 characters."
    assert constraint_words({"AllowedPattern": "^x$"}) is None


def test_a_pattern_without_words_fails_the_build() -> None:
    builder = ProductBuilder.__new__(ProductBuilder)
    builder.product = type("P", (), {"name": "demo"})()  # type: ignore[assignment]
    with pytest.raises(BuildError, match="demo: parameter Code has an AllowedPattern but no"):
        builder.parameter("Code", "group", "label", Type="String", AllowedPattern="^x$")
