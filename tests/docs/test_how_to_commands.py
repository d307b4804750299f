"""Every `python build.py ...` command line in docs/how-to/ parses with today's CLI.

Each line is parsed the way click parses a real command line (the group's options, the
subcommand path, then the command's own options, arguments, choices and required options),
without invoking anything: a how-to cannot name a command, a flag or a value that is gone.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from build import cli

REPO = Path(__file__).resolve().parents[2]
HOW_TO_DIR = REPO / "docs" / "how-to"
PYTHON_WORDS = {"python", "python3", ".venv/bin/python"}
FENCE = re.compile(r"^```")
INLINE_COMMAND = re.compile(r"`((?:python3?|\.venv/bin/python) build\.py [^`]*)`")


def how_to_pages() -> list[Path]:
    return sorted(HOW_TO_DIR.glob("*.md"))


def _logical_lines(block: list[str]) -> list[str]:
    """A code block's lines with shell continuations (a trailing backslash) joined."""
    lines: list[str] = []
    pending = ""
    for line in block:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return lines


def _code_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def build_py_commands(text: str) -> list[str]:
    """The command lines that run build.py: code-block lines that start with python and name
    build.py (output lines start otherwise), and inline code spans such as `python build.py
    launches`."""
    found = [match.group(1) for match in INLINE_COMMAND.finditer(text)]
    for block in _code_blocks(text):
        for line in _logical_lines(block):
            words = line.split()
            if len(words) > 1 and words[0] in PYTHON_WORDS and words[1] == "build.py":
                found.append(line.strip())
    return found


def build_py_args(command_line: str) -> list[str]:
    """The arguments after build.py, up to a shell operator or a comment."""
    words = shlex.split(command_line, comments=True)
    args = words[words.index("build.py") + 1 :]
    for index, word in enumerate(args):
        if word in {"|", "||", "&&", ";", ">", "2>&1", "</dev/null"}:
            return args[:index]
    return args


def check_command_line(args: list[str]) -> str:
    """Parse ARGS as click would run them, down to the last subcommand; return its path.

    Raises click.UsageError (an unknown command or option, a missing required option, a value
    outside a Choice) just as the real command line would fail."""
    context = cli.make_context("build.py", list(args), resilient_parsing=False)
    command: click.Command = cli
    path: list[str] = []
    while isinstance(command, click.Group):
        remaining = [*context._protected_args, *context.args]
        if not remaining:
            raise click.UsageError(f"no command after {' '.join(['build.py', *path])}")
        name, sub, rest = command.resolve_command(context, remaining)
        assert name is not None and sub is not None
        path.append(name)
        context = sub.make_context(name, rest, parent=context, resilient_parsing=False)
        command = sub
    if context.args:
        raise click.UsageError(f"unexpected argument(s) {context.args} for {' '.join(path)}")
    return " ".join(path)


def _cases() -> list[tuple[str, str]]:
    return [
        (page.name, line)
        for page in how_to_pages()
        for line in build_py_commands(page.read_text(encoding="utf-8"))
    ]


def test_the_how_tos_exist_and_name_build_py_commands() -> None:
    pages = {page.name for page in how_to_pages()}
    assert "README.md" in pages
    assert len(pages) >= 7, pages
    assert len(_cases()) >= 30


@pytest.mark.parametrize(("page", "command_line"), _cases())
def test_every_how_to_command_parses(page: str, command_line: str) -> None:
    try:
        check_command_line(build_py_args(command_line))
    except click.UsageError as error:
        pytest.fail(f"docs/how-to/{page}: `{command_line}`: {error.format_message()}")


@pytest.mark.parametrize(
    "command_line",
    [
        "python build.py launch alert-handler --env dev --no-such-flag",
        "python build.py lanch alert-handler --env dev",
        "python build.py launch alert-handler",
        "python build.py rollback alert-handler",
        "python build.py launches --env dev extra-argument",
        "python build.py pipeline",
    ],
)
def test_the_checker_refuses_a_gone_flag_command_or_required_option(command_line: str) -> None:
    with pytest.raises(click.UsageError):
        check_command_line(build_py_args(command_line))


def test_commands_are_found_in_code_blocks_and_inline_spans_only() -> None:
    text = (
        "Run `python build.py launches --env dev` first.\n\n"
        "```sh\n"
        "python build.py launch alert-handler --env dev \\\n"
        "    --dry-run   # nothing changes\n"
        "```\n\n"
        "```text\n"
        "error: ... remove it with `python build.py terminate x --env prod` and launch again\n"
        "```\n"
    )
    assert build_py_commands(text) == [
        "python build.py launches --env dev",
        "python build.py terminate x --env prod",
        "python build.py launch alert-handler --env dev      --dry-run   # nothing changes",
    ]
    assert build_py_args(build_py_commands(text)[2]) == [
        "launch",
        "alert-handler",
        "--env",
        "dev",
        "--dry-run",
    ]
