"""A malformed webhook URL (from the channel's secret) is logged and raised as scheme://host:port
only: a webhook's path is its credential, and a user:password or query may carry one too."""

from __future__ import annotations

import json

import boto3
import pytest
from oncall_shared.errors import DeliveryError

from tests.support.log_capture import log_output as _log_output

SECRET_PARTS = ("T000", "SECRETTOKEN", "hunter2", "sig=abc", "/services")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://bot:hunter2@hooks.example.com/services/T000/SECRETTOKEN",
            "https://hooks.example.com",
        ),
        (
            "https://hooks.example.com:0x1bb/services/T000/SECRETTOKEN?sig=abc",
            "https://hooks.example.com:0x1bb",
        ),
        (
            "https://hooks.example.com/services/T000/SECRET TOKEN?sig=abc",
            "https://hooks.example.com",
        ),
        (
            "https://hooks.example.com/services/T000/SECRETTOKEN\r\nX-sig=abc",
            "https://hooks.example.com",
        ),
        ("ftp://hooks.example.com/services/T000/SECRETTOKEN?sig=abc", "ftp://hooks.example.com"),
    ],
)
def test_a_malformed_webhook_url_is_logged_as_scheme_host_and_port(
    alert_stack, load_handler, lambda_context, event, capsys, caplog, url, shown
):
    boto3.client("secretsmanager", region_name="eu-west-1").put_secret_value(
        SecretId=alert_stack.secret_arns["slack"], SecretString=json.dumps({"webhook_url": url})
    )
    app = alert_stack.load(load_handler)
    capsys.readouterr()

    with pytest.raises(DeliveryError) as raised:
        app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    output = _log_output(capsys, caplog)
    assert "invocation failed" in output  # the failure was logged: the check below means something
    assert f"'{shown}'" in str(raised.value) and shown in output
    for part in SECRET_PARTS:
        assert part not in output and part not in str(raised.value)
    assert alert_stack.slack.requests == []
