"""`lint` remembers only clean results, by content: an unchanged template that passed is not
linted again, a changed one is, and a finding is looked for again on every run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import products.lint
from build import cli
from products.build import Manifest
from products.lint import lint_dist

REGIONS = ["us-east-1"]
TWO_TEMPLATES = ("templates/alert-handler.json", "templates/log-processor.json")


def two_template_dist(out: Path, into: Path) -> Path:
    """A dist/ of two real templates: both linters stay quick."""
    for name in TWO_TEMPLATES:
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(out / name, into / name)
    return into


def break_log_processor(dist: Path) -> None:
    path = dist / "templates" / "log-processor.json"
    template = json.loads(path.read_text())
    template["Resources"]["DeadLetterQueue"]["Properties"].pop("KmsMasterKeyId")
    template["Resources"]["FunctionLogGroup"]["Properties"]["RetentionInDays"] = 13
    path.write_text(json.dumps(template))


def test_an_unchanged_clean_template_is_not_linted_again(
    built: tuple[Path, Manifest], tmp_path: Path
) -> None:
    dist = two_template_dist(built[0], tmp_path / "dist")
    cache = tmp_path / "cache"
    first = lint_dist(dist, REGIONS, skip_checkov=False, cache_folder=cache)
    assert (first.cfn_lint, first.checkov) == ([], [])
    assert (first.cfn_lint_remembered, first.checkov_remembered) == (0, 0)
    again = lint_dist(dist, REGIONS, skip_checkov=False, cache_folder=cache)
    assert (again.cfn_lint, again.checkov) == ([], [])
    assert (again.cfn_lint_remembered, again.checkov_remembered) == (2, 2)
    # Other settings are another lint: cfn-lint checks other regions' resource specs.
    elsewhere = lint_dist(dist, ["eu-west-1"], skip_checkov=True, cache_folder=cache)
    assert elsewhere.cfn_lint_remembered == 0


def test_a_changed_template_is_linted_and_its_findings_are_never_remembered(
    built: tuple[Path, Manifest], tmp_path: Path
) -> None:
    dist = two_template_dist(built[0], tmp_path / "dist")
    cache = tmp_path / "cache"
    lint_dist(dist, REGIONS, skip_checkov=False, cache_folder=cache)
    break_log_processor(dist)
    for _ in range(2):  # the second run finds the same: the broken template was not recorded
        report = lint_dist(dist, REGIONS, skip_checkov=False, cache_folder=cache)
        assert any("log-processor.json" in finding for finding in report.cfn_lint), report
        assert report.checkov and all("log-processor.json" in f for f in report.checkov), report
        assert (report.cfn_lint_remembered, report.checkov_remembered) == (1, 1)


def test_the_command_says_what_it_did_not_lint_again_and_no_cache_lints_all(
    built: tuple[Path, Manifest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = two_template_dist(built[0], tmp_path / "dist")
    monkeypatch.setattr(products.lint, "CLEAN_LINT_CACHE", tmp_path / "cache")
    runner = CliRunner()
    arguments = ["--dist", str(dist), "lint", "--skip-checkov"]
    first = runner.invoke(cli, arguments)
    second = runner.invoke(cli, arguments)
    uncached = runner.invoke(cli, [*arguments, "--no-cache"])
    assert first.exit_code == second.exit_code == uncached.exit_code == 0, first.output
    assert "not linted again" not in first.output
    assert "not linted again (--no-cache lints them): cfn-lint 2, checkov 0" in second.output
    assert "not linted again" not in uncached.output
    assert "cfn-lint: 2 template(s), 0 finding(s)" in uncached.output


def test_a_finding_that_names_no_linted_template_leaves_them_all_unremembered(
    tmp_path: Path,
) -> None:
    from products.lint import _remember_clean
    from products.lint_cache import CleanLintCache

    template = tmp_path / "templates" / "alert-handler.json"
    template.parent.mkdir()
    template.write_text("{}")
    cache = CleanLintCache(tmp_path / "cache", "checkov", "test")
    linted = {"templates/alert-handler.json": template}
    # A path checkov might print another way: which template it belongs to is unknown.
    findings = ["/elsewhere/alert-handler.json Function: CKV_AWS_1 something"]
    _remember_clean(linted, findings, cache, lambda name: name + " ")
    assert not cache.passed(template, "templates/alert-handler.json")
    _remember_clean(linted, [], cache, lambda name: name + " ")
    assert cache.passed(template, "templates/alert-handler.json")
