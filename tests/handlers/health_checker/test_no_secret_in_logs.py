"""A malformed TARGETS entry is logged and raised with its URL as scheme://host:port only: a
target's path, query or user:password may carry a token, and the failure reaches the logs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from oncall_shared.errors import SettingsError

from tests.support.log_capture import log_output as _log_output

SECRET_PARTS = ("SECRETTOKEN", "hunter2", "sig=abc", "/private")


@pytest.fixture
def app(capsys: pytest.CaptureFixture[str], health_aws: Any, load_handler: Any) -> Any:
    # Loaded while capsys captures: the handler's logger writes to the stdout it finds at load.
    return load_handler("health_checker")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://ops:hunter2@api.example.com/private/SECRETTOKEN?sig=abc",
            "https://api.example.com",
        ),
        (
            "https://api.example.com:99999/private/SECRETTOKEN?sig=abc",
            "https://api.example.com:99999",
        ),
        ("https://api.example.com/private/SECRET TOKEN?sig=abc hunter2", "https://api.example.com"),
        ("gopher://api.example.com:70/private/SECRETTOKEN?sig=abc", "gopher://api.example.com:70"),
    ],
)
def test_a_malformed_target_url_is_logged_as_scheme_host_and_port(
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    event: Any,
    lambda_context: Any,
    url: str,
    shown: str,
) -> None:
    monkeypatch.setenv("TARGETS", json.dumps([{"name": "api", "type": "http", "url": url}]))
    capsys.readouterr()

    with pytest.raises(SettingsError) as raised:
        app.lambda_handler(event("health_scheduled_event"), lambda_context)

    output = _log_output(capsys, caplog)
    assert "invocation failed" in output  # the failure was logged: the check below means something
    assert f"TARGETS[0].url='{shown}'" in str(raised.value) and shown in output
    for part in SECRET_PARTS:
        assert part not in output and part not in str(raised.value)


def test_targets_that_are_not_json_are_logged_without_their_text(
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    event: Any,
    lambda_context: Any,
) -> None:
    broken = '[{"name": "api", "type": "http", "url": "https://api.example.com/private/SECRETTOKEN"'
    monkeypatch.setenv("TARGETS", broken)
    capsys.readouterr()

    with pytest.raises(SettingsError, match=r"TARGETS: is not valid JSON \(.* at char \d+\)"):
        app.lambda_handler(event("health_scheduled_event"), lambda_context)

    output = _log_output(capsys, caplog)
    assert "invocation failed" in output
    assert "SECRETTOKEN" not in output
