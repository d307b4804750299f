"""cfn-lint and checkov run for real over the built templates: zero findings, and they can fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from catalog.config import CatalogConfig
from products.build import Manifest
from products.errors import LintError
from products.lint import run_cfn_lint, run_checkov, templates_in


def test_cfn_lint_finds_nothing(built: tuple[Path, Manifest], config: CatalogConfig) -> None:
    out, _ = built
    assert run_cfn_lint(templates_in(out), config.portfolio["regions"]) == []


def test_checkov_finds_nothing(built: tuple[Path, Manifest]) -> None:
    out, _ = built
    assert run_checkov(out) == []


def _broken_copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "dist"
    (copy / "templates").mkdir(parents=True)
    path = copy / "templates" / "log-processor.json"
    shutil.copy(out / "templates" / "log-processor.json", path)
    template = json.loads(path.read_text())
    template["Resources"]["DeadLetterQueue"]["Properties"].pop("KmsMasterKeyId")
    template["Resources"]["FunctionLogGroup"]["Properties"]["RetentionInDays"] = 13
    path.write_text(json.dumps(template))
    return copy


def test_both_linters_report_a_broken_template(
    built: tuple[Path, Manifest], tmp_path: Path
) -> None:
    out, _ = built
    broken = _broken_copy(out, tmp_path)
    cfn = run_cfn_lint(templates_in(broken), ["us-east-1"])
    assert any("RetentionInDays" in finding or "13" in finding for finding in cfn), cfn
    checkov = run_checkov(broken)
    assert any("log-processor.json" in finding for finding in checkov), checkov


def test_empty_dist_says_to_build(tmp_path: Path) -> None:
    with pytest.raises(LintError, match=r"run `python build\.py build` first"):
        templates_in(tmp_path)


def test_checkov_does_not_judge_the_folder_the_templates_were_built_in(
    built: tuple[Path, Manifest], tmp_path: Path
) -> None:
    # checkov's CKV_AWS_45 reads the template's absolute path as an environment variable and
    # flags any run of exactly 40 [A-Za-z0-9/+=] characters as an AWS secret key: here
    # "BBB.../templates/health". Such folder names (random temporary ones) made lint fail now
    # and then; what checkov judges must be the template, wherever it was built.
    dist = tmp_path / f"x_{'B' * 23}"
    (dist / "templates").mkdir(parents=True)
    shutil.copy(built[0] / "templates" / "health-checker.json", dist / "templates")
    assert len(f"{'B' * 23}/templates/health") == 40
    assert run_checkov(dist) == []
