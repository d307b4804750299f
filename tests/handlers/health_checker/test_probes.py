"""Probes against real servers on 127.0.0.1: status, body, latency, timeouts, redirects, TCP."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from typing import Any

import pytest
from health_probes import _PinnedConnection, check_http, check_tcp
from health_targets import HttpTarget, TcpTarget

from tests.support.http_receiver import Gate


def http_target(url: str, **options: Any) -> HttpTarget:
    return HttpTarget(name="svc", url=url, **options)


def test_expected_status_and_body_substring_make_a_healthy_check(http_receiver: Any) -> None:
    http_receiver.script(200, body="status: all systems ok")
    result = check_http(http_target(http_receiver.url + "/health", body_contains="ok"), 2, True, {})
    assert result.healthy, result.detail
    assert result.status_code == 200
    assert http_receiver.requests[0].path == "/health"


def test_server_error_and_throttling_are_failures_naming_the_status(http_receiver: Any) -> None:
    http_receiver.script(500, body="boom").script(429, headers={"Retry-After": "5"})
    first = check_http(http_target(http_receiver.url), 2, True, {})
    second = check_http(http_target(http_receiver.url), 2, True, {})
    assert not first.healthy and "HTTP 500, expected [200]" in first.detail
    assert not second.healthy and "HTTP 429" in second.detail


def test_missing_body_substring_fails(http_receiver: Any) -> None:
    http_receiver.script(200, body="maintenance")
    result = check_http(http_target(http_receiver.url, body_contains="ready"), 2, True, {})
    assert not result.healthy
    assert "body lacks 'ready'" in result.detail


def test_latency_threshold_fails_a_slow_but_correct_answer(http_receiver: Any) -> None:
    http_receiver.script(200, delay=0.3)
    result = check_http(http_target(http_receiver.url, latency_ms=100), 2, True, {})
    assert not result.healthy
    assert "slow" in result.detail and result.latency_ms >= 300


def test_a_server_slower_than_the_timeout_fails_within_the_timeout(http_receiver: Any) -> None:
    # The server holds its answer until the check has returned: only the check's own timeout can
    # end it. A check that waited would get the gate's 503 after 30 s instead of "timed out".
    gate = Gate()
    http_receiver.script(200, hold=gate)
    try:
        result = check_http(http_target(http_receiver.url), 0.3, True, {})
    finally:
        gate.open()
    assert not result.healthy and "timed out" in result.detail


def test_secret_headers_are_sent_and_the_method_is_used(http_receiver: Any) -> None:
    check_http(
        http_target(http_receiver.url, method="POST"), 2, True, {"Authorization": "Bearer t"}
    )
    request = http_receiver.requests[0]
    assert request.method == "POST"
    assert request.headers["Authorization"] == "Bearer t"


def test_redirect_within_origin_is_followed_and_keeps_headers(http_receiver: Any) -> None:
    http_receiver.script(302, headers={"Location": "/ready"}).script(200, body="ok")
    result = check_http(http_target(http_receiver.url + "/"), 2, True, {"X-Token": "t"})
    assert result.healthy, result.detail
    assert [r.path for r in http_receiver.requests] == ["/", "/ready"]
    assert http_receiver.requests[1].headers.get("X-Token") == "t"


def test_cross_origin_redirect_drops_secret_headers(make_http_receiver: Callable[[], Any]) -> None:
    first, second = make_http_receiver(), make_http_receiver()
    first.script(307, headers={"Location": second.url + "/elsewhere"})
    result = check_http(http_target(first.url), 2, True, {"Authorization": "Bearer secret"})
    assert result.healthy, result.detail
    assert second.requests[0].path == "/elsewhere"
    assert "Authorization" not in second.requests[0].headers


def test_redirect_to_instance_metadata_is_refused(http_receiver: Any) -> None:
    http_receiver.script(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    result = check_http(http_target(http_receiver.url), 2, True, {})
    assert not result.healthy
    assert "refused" in result.detail and "instance metadata" in result.detail


def test_redirect_loop_stops_after_the_limit(http_receiver: Any) -> None:
    http_receiver.default.status = 302
    http_receiver.default.headers = {"Location": "/again"}
    result = check_http(http_target(http_receiver.url), 2, True, {})
    assert not result.healthy and "more than 5 redirects" in result.detail
    assert len(http_receiver.requests) == 6


def test_redirect_is_the_answer_when_following_is_off(http_receiver: Any) -> None:
    http_receiver.script(301, headers={"Location": "/moved"})
    target = http_target(
        http_receiver.url, follow_redirects=False, expected_status=frozenset({301})
    )
    assert check_http(target, 2, True, {}).healthy
    assert len(http_receiver.requests) == 1


def test_loopback_by_name_is_refused_unless_private_networks_are_allowed(
    http_receiver: Any,
) -> None:
    url = f"http://localhost:{http_receiver.port}/"
    refused = check_http(http_target(url), 2, False, {})
    assert not refused.healthy and "loopback" in refused.detail
    assert http_receiver.requests == []


def test_tcp_open_port_is_healthy_and_closed_port_is_not(
    tcp_listener: int, closed_port: int
) -> None:
    open_result = check_tcp(TcpTarget("db", "127.0.0.1", tcp_listener), 2, True)
    closed_result = check_tcp(TcpTarget("db", "127.0.0.1", closed_port), 2, True)
    assert open_result.healthy, open_result.detail
    assert not closed_result.healthy and "failed" in closed_result.detail


def test_tcp_refuses_loopback_when_private_is_not_allowed(tcp_listener: int) -> None:
    result = check_tcp(TcpTarget("db", "localhost", tcp_listener), 2, False)
    assert not result.healthy and "refused" in result.detail


def test_https_verifies_the_certificate_against_the_url_host_name(
    tls_server: Any, monkeypatch: Any
) -> None:
    # The probe connects to the resolved 127.0.0.1 but must send SNI and verify "localhost".
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert_file))
    target = http_target(f"https://localhost:{tls_server.port}/", body_contains="tls ok")
    result = check_http(target, 3, True, {})
    assert result.healthy, result.detail


def test_https_with_an_untrusted_certificate_fails(tls_server: Any) -> None:
    result = check_http(http_target(f"https://localhost:{tls_server.port}/"), 3, True, {})
    assert not result.healthy and "CERTIFICATE_VERIFY_FAILED" in result.detail


def test_https_with_a_certificate_for_another_name_fails(tls_server: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert_file))
    result = check_http(http_target(f"https://127.0.0.1:{tls_server.port}/"), 3, True, {})
    assert not result.healthy and "certificate" in result.detail.lower()


def fake_dns(monkeypatch: Any, answers: dict[str, str]) -> list[str]:
    """Answer getaddrinfo for made-up names (real DNS is off-limits here); returns the lookups."""
    import socket

    import health_netguard

    real = socket.getaddrinfo
    asked: list[str] = []

    def lookup(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        if host in answers:
            return real(answers[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(health_netguard.socket, "getaddrinfo", lookup)
    return asked


def test_a_name_resolving_to_instance_metadata_is_refused_even_with_private_allowed(
    monkeypatch: Any,
) -> None:
    fake_dns(monkeypatch, {"innocent.example.test": "169.254.169.254"})
    result = check_http(http_target("http://innocent.example.test/"), 2, True, {})
    assert not result.healthy
    assert (
        "host 'innocent.example.test' resolves to 169.254.169.254: instance metadata"
        in result.detail
    )


def test_probe_connects_to_the_checked_address_and_sends_the_url_host(
    http_receiver: Any, monkeypatch: Any
) -> None:
    asked = fake_dns(monkeypatch, {"svc.example.test": "127.0.0.1"})
    result = check_http(http_target(f"http://svc.example.test:{http_receiver.port}/h"), 2, True, {})
    assert result.healthy, result.detail
    # Resolved once, by the guard; the connection is made to that IP literal, with no second
    # lookup (no DNS rebinding window, and no lookup at all for a literal).
    assert asked == ["svc.example.test"]
    assert http_receiver.requests[0].headers["Host"] == f"svc.example.test:{http_receiver.port}"


def test_an_address_literal_is_connected_to_without_any_lookup(
    http_receiver: Any, monkeypatch: Any
) -> None:
    asked = fake_dns(monkeypatch, {})
    result = check_http(http_target(f"http://127.0.0.1:{http_receiver.port}/h"), 2, True, {})
    assert result.healthy, result.detail
    assert asked == []


def test_head_request_reads_no_body(http_receiver: Any) -> None:
    http_receiver.script(204)
    target = http_target(http_receiver.url, method="HEAD", expected_status=frozenset({204}))
    result = check_http(target, 2, True, {})
    assert result.healthy, result.detail
    assert http_receiver.requests[0].method == "HEAD"


def test_redirect_to_an_invalid_url_fails_the_target_only(http_receiver: Any) -> None:
    http_receiver.script(302, headers={"Location": "http://127.0.0.1:99999/"})
    result = check_http(http_target(http_receiver.url), 2, True, {})
    assert not result.healthy and "failed" in result.detail


@pytest.mark.parametrize(
    ("port", "tls", "host_header"),
    [
        (443, True, "api.example.com"),
        (80, False, "api.example.com"),
        (8443, True, "api.example.com:8443"),
    ],
)
def test_the_host_header_names_the_port_only_when_it_is_not_the_schemes_own(
    port: int, tls: bool, host_header: str
) -> None:
    # The request is written into one end of a socket pair (no connect): what a server reads.
    client_end, server_end = socket.socketpair()
    with client_end, server_end:
        context = ssl.create_default_context() if tls else None
        connection = _PinnedConnection("api.example.com", port, "192.0.2.10", 1.0, context)
        connection.sock = client_end
        connection.request("GET", "/health")
        head = server_end.recv(65536).decode("latin-1")
    assert f"\r\nHost: {host_header}\r\n" in head
