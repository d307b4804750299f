"""TARGETS schema: valid documents parse to typed targets; invalid ones name the path and value."""

from __future__ import annotations

from typing import Any

import pytest
from health_targets import HttpTarget, TcpTarget, parse_targets
from oncall_shared.errors import SettingsError


def test_full_http_and_tcp_targets_parse_with_defaults_filled() -> None:
    targets = parse_targets(
        [
            {"name": "api", "type": "http", "url": "https://api.example.com/health"},
            {
                "name": "admin",
                "type": "http",
                "url": "http://admin.example.com:8080/ping?x=1",
                "method": "post",
                "expected_status": [200, 204],
                "body_contains": "ok",
                "latency_ms": 750,
                "timeout_seconds": 2.5,
                "headers_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:h-AbCd",
                "follow_redirects": False,
            },
            {"name": "db", "type": "tcp", "host": "db.internal", "port": 5432},
        ],
        "TARGETS",
    )
    api, admin, db = targets
    assert api == HttpTarget(name="api", url="https://api.example.com/health")
    assert api.method == "GET" and api.expected_status == frozenset({200})
    assert admin.method == "POST" and admin.expected_status == frozenset({200, 204})
    assert admin.timeout_seconds == 2.5 and admin.follow_redirects is False
    assert db == TcpTarget(name="db", host="db.internal", port=5432)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"name": "x", "type": "udp"}, "TARGETS[0].type='udp': must be 'http' or 'tcp'"),
        ({"name": "bad name", "type": "tcp", "host": "h", "port": 1}, "TARGETS[0].name='bad name'"),
        ({"name": "x", "type": "http", "url": "ftp://h/"}, "TARGETS[0].url='ftp://h'"),
        ({"name": "x", "type": "http", "url": "http://u:p@h/"}, "carries user:password"),
        ({"name": "x", "type": "http", "url": "http://h:99999/"}, "port is not a number 1-65535"),
        ({"name": "x", "type": "tcp", "host": "h", "port": 70000}, "TARGETS[0].port=70000"),
        ({"name": "x", "type": "tcp", "host": "h"}, "TARGETS[0].port: required"),
        ({"name": "x", "type": "tcp", "port": 22}, "TARGETS[0].host: required"),
        ({"name": "x", "type": "http", "url": "http://h/", "expected_status": [700]}, "700 is not"),
        ({"name": "x", "type": "http", "url": "http://h/", "method": "DELETE"}, "method='DELETE'"),
        (
            {
                "name": "x",
                "type": "http",
                "url": "http://h/",
                "method": "HEAD",
                "body_contains": "a",
            },
            "HEAD response has no body",
        ),
        (
            {"name": "x", "type": "http", "url": "http://h/", "timeout_seconds": 0},
            "timeout_seconds=0",
        ),
        (
            {"name": "x", "type": "http", "url": "http://h/", "latency_ms": "fast"},
            "latency_ms='fast'",
        ),
        ({"name": "x", "type": "http", "url": "http://h/", "headers_secret_arn": "s"}, "arn='s'"),
        (
            {"name": "x", "type": "http", "url": "http://h/", "expected_staus": [200]},
            "unknown keys",
        ),
    ],
)
def test_invalid_target_names_path_and_value(document: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_targets([document], "TARGETS")
    assert message in str(raised.value)


@pytest.mark.parametrize("document", [[], {}, "x", None])
def test_document_must_be_a_non_empty_list(document: Any) -> None:
    with pytest.raises(SettingsError, match=r"TARGETS: must be a non-empty JSON list"):
        parse_targets(document, "TARGETS")


def test_duplicate_names_are_refused() -> None:
    same = {"name": "dup", "type": "tcp", "host": "h", "port": 1}
    with pytest.raises(SettingsError, match=r"target name 'dup' is used more than once"):
        parse_targets([same, dict(same)], "TARGETS")


def test_too_many_targets_are_refused() -> None:
    many = [{"name": f"t{i}", "type": "tcp", "host": "h", "port": 1} for i in range(1001)]
    with pytest.raises(SettingsError, match=r"1001 targets, at most 1000"):
        parse_targets(many, "TARGETS")


def test_a_thousand_targets_are_accepted() -> None:
    many = [{"name": f"t{i}", "type": "tcp", "host": "h", "port": 1} for i in range(1000)]
    assert len(parse_targets(many, "TARGETS")) == 1000
