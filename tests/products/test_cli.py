"""The CLI: --help for every command, and our errors as one line with a non-zero exit."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from build import COMMAND_MODULES, all_commands, cli

REPO = Path(__file__).resolve().parents[2]
WIRED = all_commands()
COMMANDS = sorted(WIRED)


def test_every_expected_command_is_wired() -> None:
    expected = {
        "build",
        "lint",
        "bump",
        "plan",
        "publish",
        "status",
        "rollback",
        "launch",
        "bootstrap",
        "demo",
        "local",
    }
    assert expected <= set(COMMANDS), f"missing: {expected - set(COMMANDS)}"


def test_every_command_is_found_in_the_module_that_defines_it() -> None:
    defined = {
        command.name: module_name
        for module_name in set(COMMAND_MODULES.values())
        for command in importlib.import_module(module_name).COMMANDS
    }
    assert defined == COMMAND_MODULES


def test_a_command_imports_only_its_own_module() -> None:
    # `launch` needs neither the local AWS nor the build; each run of the CLI pays its imports.
    script = (
        "import sys, build\n"
        "build.cli.get_command(None, 'launches')\n"
        "print(sorted(m for m in ('localcloud.server', 'products.commands') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_group_help_lists_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_explains_itself(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    summary = WIRED[command].help or ""
    assert len(summary.split()) >= 5, f"{command}: --help needs a real description"


def test_config_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text("catalog: [\n")
    result = CliRunner().invoke(cli, ["--config", str(bad), "build"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "catalog.yaml: not valid YAML" in lines[0]
    assert "Traceback" not in result.output


def test_build_command_writes_dist(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--dist", str(tmp_path), "build", "--product", "auto-healer"])
    assert result.exit_code == 0, result.output
    assert "auto-healer" in result.stdout
    assert (tmp_path / "templates" / "auto-healer.json").is_file()


def test_unknown_product_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--dist", str(tmp_path), "build", "--product", "pager"])
    assert result.exit_code == 1
    assert "error: unknown product(s) pager; known:" in result.stderr
