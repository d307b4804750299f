"""Every buildspec the pipeline stack names exists and is one CodeBuild accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import load_config
from portfolio.pipeline.buildspec import load_buildspec
from products.pipeline import REPORT_GROUP, build_pipeline_template

REPO = Path(__file__).resolve().parents[2]


def _named_buildspecs() -> dict[str, str]:
    template = build_pipeline_template(load_config(DEFAULT_CONFIG)).to_dict()
    return {
        name: resource["Properties"]["Source"]["BuildSpec"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CodeBuild::Project"
    }


@pytest.mark.parametrize("buildspec", sorted(set(_named_buildspecs().values())))
def test_each_stage_buildspec_is_valid(buildspec: str) -> None:
    spec = load_buildspec(REPO / buildspec)
    assert spec.phases


def test_build_and_test_reports_junit_to_the_group_its_role_may_write() -> None:
    spec = load_buildspec(REPO / "buildspec.yml")
    assert [group.name for group in spec.reports] == [REPORT_GROUP]


def test_the_buildspec_points_at_permissions_that_exist() -> None:
    text = (REPO / "buildspec.yml").read_text()
    assert "docs/publishing.md" in text
    assert "<!-- permissions table" in (REPO / "docs" / "publishing.md").read_text()
