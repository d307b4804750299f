"""The pipeline's commands through build.py's click group: help, and what they refuse."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from build import cli


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["pipeline", "run", "--help"], "--approve"),
        (["deploy", "--help"], "--env ENV"),
    ],
)
def test_help(args: list[str], shown: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert shown in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pipeline", "run"], "only --local is supported"),
        (["deploy", "--env", "dev", "--local"], "pipeline run --local"),
        (
            ["pipeline", "run", "--local", "--variable", "PYTEST_ADDOPTS"],
            "'PYTEST_ADDOPTS': expected NAME=VALUE",
        ),
        (
            ["pipeline", "run", "--local", "--variable", "CODEBUILD_BUILD_ID=x"],
            "'CODEBUILD_BUILD_ID': names starting with CODEBUILD_ are reserved by CodeBuild",
        ),
    ],
)
def test_refused_usage(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.output
