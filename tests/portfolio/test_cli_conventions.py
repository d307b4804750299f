"""CLI conventions (issue 11.5, 11.6): exit codes, bounded waits on a silent endpoint, Ctrl-C,
one-line errors for a bad config file or endpoint URL. Against real local things: localcloud,
a listening socket on 127.0.0.1 that never answers, real subprocesses."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from build import cli

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path, portfolio_config: dict[str, Any], make_catalog: Any) -> Path:
    path: Path = make_catalog(tmp_path / "catalog.yaml", portfolio_config)
    return path


@pytest.fixture
def dist(tmp_path: Path, make_dist: Any) -> Path:
    make_dist(tmp_path / "dist", V1)
    return tmp_path / "dist"


def invoke(config: Path, dist: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "--dist", str(dist), *args])


@pytest.fixture
def silent_endpoint() -> Iterator[tuple[str, socket.socket]]:
    """An endpoint that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", listener


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_CONNECT_TIMEOUT", "0.5")
    monkeypatch.setenv("CATALOG_READ_TIMEOUT", "0.2")


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error: ")]


# --- exit codes ----------------------------------------------------------------------------


def test_a_mistyped_plan_option_exits_1_not_the_changes_pending_code(
    config: Path, dist: Path
) -> None:
    for args in (["plan", "--jsn"], ["plan", "--jsn", "--detailed-exitcode"]):
        result = invoke(config, dist, *args)
        assert result.exit_code == 1, result.output
        assert "No such option '--jsn'" in result.output


def test_a_mistyped_command_with_detailed_exitcode_exits_1(config: Path, dist: Path) -> None:
    result = invoke(config, dist, "plna", "--detailed-exitcode")
    assert result.exit_code == 1, result.output
    assert invoke(config, dist, "plna").exit_code == 2  # click's usage error elsewhere


def test_other_commands_keep_clicks_usage_error_code(config: Path, dist: Path) -> None:
    assert invoke(config, dist, "status", "--jsn").exit_code == 2


def test_the_buildspec_plan_line_fails_on_a_typo(tmp_path: Path) -> None:
    """The BuildAndTest stage's own plan command, with a mistyped option, fails in a shell."""
    spec = yaml.safe_load((REPO / "buildspec.yml").read_text(encoding="utf-8"))
    line = next(c for c in spec["phases"]["build"]["commands"] if "build.py plan" in c)
    command, _, accept = line.partition(" || ")
    assert accept == "[ $? -eq 2 ]"
    mistyped = f"{command.replace('.venv/bin/python', sys.executable)} --jsn || {accept}"
    shell = subprocess.run(
        ["/bin/sh", "-c", mistyped], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert shell.returncode != 0, shell.stderr
    assert "No such option '--jsn'" in shell.stderr


def test_status_check_fails_until_the_build_is_published(
    config: Path, dist: Path, cloud_endpoint: str
) -> None:
    target = ["--endpoint-url", cloud_endpoint, "--no-build"]
    assert invoke(config, dist, "bootstrap", *target).exit_code == 0
    unpublished = invoke(config, dist, "status", "--check", *target)
    assert unpublished.exit_code == 1, unpublished.output
    assert error_lines(unpublished) == [
        "error: status --check: 3 drift item(s), first: us-east-1: portfolio "
        "'On-call Tools (test)' not published"
    ]
    assert invoke(config, dist, "status", *target).exit_code == 0  # without --check: a report
    assert invoke(config, dist, "publish", *target).exit_code == 0
    published = invoke(config, dist, "status", "--check", "--debug", *target)
    assert published.exit_code == 0, published.output
    assert any(line.startswith("call: servicecatalog ") for line in published.output.splitlines())


# --- one-line errors for bad input ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "hint"),
    [("htp:/x", ""), ("localhost:4566", "; did you mean http://localhost:4566?")],
)
def test_an_invalid_endpoint_url_is_one_line(config: Path, dist: Path, url: str, hint: str) -> None:
    result = invoke(config, dist, "plan", "--no-build", "--endpoint-url", url)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: --endpoint-url {url!r} is not an http:// or https:// URL with a host "
        f"(e.g. http://127.0.0.1:4566){hint}"
    ]


def test_an_invalid_aws_endpoint_url_variable_is_one_line(
    config: Path, dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:4566")  # every service: no client is made
    result = invoke(config, dist, "plan", "--no-build", "--region", "us-east-1")
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("error: servicecatalog in us-east-1: Invalid endpoint: localhost:4566")
    assert "(set by AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_<SERVICE>)" in line


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_one_line(
    config: Path, dist: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CATALOG_READ_TIMEOUT", value)
    result = invoke(config, dist, "plan", "--no-build", "--endpoint-url", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: CATALOG_READ_TIMEOUT {value!r} is not a number of seconds in (0, 3600]"
    ]


def test_a_config_that_is_not_utf8_is_one_line(tmp_path: Path, dist: Path) -> None:
    config = tmp_path / "latin1.yaml"
    config.write_bytes("catalog:\n  name: caf\xe9\n".encode("latin-1"))
    result = invoke(config, dist, "plan", "--no-build", "--local")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: {config}: not UTF-8 text (byte 0xe9 at offset 20); save it as UTF-8"
    ]


# --- an endpoint that never answers --------------------------------------------------------


def test_a_silent_endpoint_ends_plan_with_one_line_naming_it(
    config: Path, dist: Path, silent_endpoint: tuple[str, socket.socket], short_timeouts: None
) -> None:
    url, listener = silent_endpoint
    result = invoke(config, dist, "plan", "--no-build", "--endpoint-url", url)
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("error: us-east-1: plan (reading the catalog): ")
    assert f" at {url}: no answer within 0.2 s (2 attempts)" in line
    assert connections_made(listener) == 2  # not botocore's 8 attempts


def connections_made(listener: socket.socket) -> int:
    """The connections waiting in LISTENER's backlog (each attempt opened a new one)."""
    listener.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def test_the_endpoint_named_is_the_one_aws_endpoint_url_set(
    config: Path,
    dist: Path,
    cloud_endpoint: str,
    silent_endpoint: tuple[str, socket.socket],
    short_timeouts: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every service at localcloud except Service Catalog, which AWS_ENDPOINT_URL_SERVICE_CATALOG
    sends to the silent socket: the error names that endpoint, not localcloud's."""
    url, _ = silent_endpoint
    monkeypatch.delenv("CATALOG_READ_TIMEOUT")  # the default: localcloud answers S3 meanwhile
    bootstrap = invoke(config, dist, "bootstrap", "--no-build", "--endpoint-url", cloud_endpoint)
    assert bootstrap.exit_code == 0, bootstrap.output
    monkeypatch.setenv("CATALOG_READ_TIMEOUT", "3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloud_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SERVICE_CATALOG", url)
    result = invoke(config, dist, "plan", "--no-build", "--debug")
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert line.startswith("error: us-east-1: plan (reading the catalog): servicecatalog ")
    assert f" at {url}: no answer within 3 s" in line
    calls = [c for c in result.output.splitlines() if c.startswith("call: ")]
    assert any(c.startswith("call: s3 ") and " us-east-1 200 " in c for c in calls)
    assert any(c.startswith("call: servicecatalog ") and " ReadTimeoutError " in c for c in calls)


@pytest.mark.parametrize(
    "arguments", [["plan"], ["bootstrap"], ["launch", "alpha", "--env", "dev"]], ids=str
)
def test_ctrl_c_while_waiting_exits_130_with_one_line(
    config: Path, dist: Path, silent_endpoint: tuple[str, socket.socket], arguments: list[str]
) -> None:
    url, listener = silent_endpoint
    env = {**os.environ, "CATALOG_READ_TIMEOUT": "3600", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, str(REPO / "build.py"), "--config", str(config)]
    command += ["--dist", str(dist), *arguments, "--no-build", "--endpoint-url", url]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        listener.settimeout(120)  # a bound for a broken command, not a timing assertion
        connection, _ = listener.accept()  # the command is now waiting for an answer
        with connection:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert stderr.splitlines() == ["interrupted (Ctrl-C); rerun the command to resume"]


# --- stack events and elapsed time while waiting -------------------------------------------

ELAPSED = re.compile(r"^ *\[ *\d+\.\d s\] ")


def test_launch_shows_each_stack_event_once_oldest_first_with_elapsed_time(
    config: Path, dist: Path, cloud_endpoint: str
) -> None:
    target = ["--endpoint-url", cloud_endpoint, "--no-build"]
    bootstrap = invoke(config, dist, "bootstrap", *target)
    assert bootstrap.exit_code == 0, bootstrap.output
    assert [event_status(line) for line in bootstrap.output.splitlines() if "(AWS::" in line] == [
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
    ]
    assert invoke(config, dist, "publish", *target).exit_code == 0
    first = invoke(config, dist, "launch", "alpha", "--env", "dev", *target)
    second = invoke(config, dist, "launch", "alpha", "--env", "dev", *target)
    for result in (first, second):
        assert result.exit_code == 0, result.output
        # The launch preview comes first; from the record on, every line waits for the launch,
        # then the result and its one output end the output.
        lines = result.output.splitlines()
        started = next(i for i, line in enumerate(lines) if " record " in line)
        waiting = lines[started:-2]
        assert waiting and all(ELAPSED.match(line) for line in waiting), result.output
    stack = "(AWS::CloudFormation::Stack)"
    assert [event_status(line) for line in first.output.splitlines() if stack in line] == [
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
    ]
    # The update's own events only: the stack's earlier (create) events are not shown again.
    assert [event_status(line) for line in second.output.splitlines() if stack in line] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]


def event_status(line: str) -> str:
    return line.split(") ", 1)[1].split(":", maxsplit=1)[0]
