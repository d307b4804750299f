"""oncall_shared.http.send_json against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from oncall_shared import http
from oncall_shared.errors import DeliveryError


def test_posts_json_with_headers_and_returns_status_and_body(http_receiver):
    http_receiver.script(202, body='{"status":"success"}')

    status, body = http.send_json(
        f"{http_receiver.url}/v2/enqueue", {"a": "é"}, timeout=2, headers={"X-Test": "1"}
    )

    assert (status, body) == (202, '{"status":"success"}')
    [request] = http_receiver.requests
    assert (request.method, request.path) == ("POST", "/v2/enqueue")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Test"] == "1"
    assert request.json() == {"a": "é"}


def test_5xx_is_retried_with_backoff_then_succeeds(http_receiver, no_sleep):
    http_receiver.script(500).script(503)

    assert http.send_json(http_receiver.url, {}, timeout=2)[0] == 200

    assert len(http_receiver.requests) == 3
    assert len(no_sleep) == 2 and all(0 <= pause <= http.BACKOFF_CAP_SECONDS for pause in no_sleep)


def test_429_honours_retry_after_capped(http_receiver, no_sleep):
    http_receiver.script(429, {"Retry-After": "2"}).script(429, {"Retry-After": "3600"})

    http.send_json(http_receiver.url, {}, timeout=2)

    assert no_sleep == [2.0, http.MAX_RETRY_AFTER_SECONDS]


def test_4xx_fails_at_once_without_retry(http_receiver, no_sleep):
    http_receiver.script(400, body="invalid_payload")

    with pytest.raises(
        DeliveryError, match="rejected with HTTP 400 \\(not retried\\): invalid_payload"
    ) as caught:
        http.send_json(http_receiver.url + "/services/SECRET/TOKEN", {}, timeout=2)

    assert caught.value.status == 400 and caught.value.retryable is False
    assert "SECRET" not in str(caught.value)  # webhook paths carry credentials
    assert len(http_receiver.requests) == 1 and no_sleep == []


def test_gives_up_after_max_attempts(http_receiver, no_sleep):
    http_receiver.default.status = 502

    with pytest.raises(DeliveryError, match="failed after 2 attempts: HTTP 502"):
        http.send_json(http_receiver.url, {}, timeout=2, max_attempts=2)

    assert len(http_receiver.requests) == 2


def test_timeout_is_retried_and_reported(http_receiver, no_sleep):
    http_receiver.script(200, delay=0.6).script(200, delay=0.6)

    with pytest.raises(DeliveryError, match=r"timed out after 0\.2s"):
        http.send_json(http_receiver.url, {}, timeout=0.2, max_attempts=2)
    assert len(http_receiver.requests) == 2


def test_connection_refused_is_a_delivery_error(no_sleep):
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryError, match="connection failed"):
        http.send_json(f"http://127.0.0.1:{port}/", {}, timeout=1, max_attempts=2)


def test_a_garbled_answer_is_retried_then_a_delivery_error(no_sleep):
    import socket
    import threading

    connections = []

    with socket.create_server(("127.0.0.1", 0)) as server:

        def answer_garbage() -> None:
            for _ in range(2):
                conn, _ = server.accept()
                with conn:
                    connections.append(conn.recv(65536))
                    conn.sendall(b"NOT-HTTP garbage\r\n\r\n")

        thread = threading.Thread(target=answer_garbage, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/hook"
        with pytest.raises(DeliveryError, match=r"failed after 2 attempts: bad HTTP answer"):
            http.send_json(url, {"text": "x"}, timeout=2, max_attempts=2)
        thread.join(timeout=5)
    assert len(connections) == 2


def test_redirects_are_not_followed(http_receiver, no_sleep):
    http_receiver.script(302, {"Location": "/elsewhere"})

    with pytest.raises(DeliveryError, match="HTTP 302"):
        http.send_json(http_receiver.url, {}, timeout=2)
    assert len(http_receiver.requests) == 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/x", "no-scheme"])
def test_only_http_urls(url):
    with pytest.raises(DeliveryError, match="is not http"):
        http.send_json(url, {}, timeout=1)


def test_retry_after_http_date_and_garbage():
    now = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)
    assert http.retry_after_seconds("Sat, 28 Nov 2026 09:00:05 GMT", now) == 5.0
    assert http.retry_after_seconds("Sat, 28 Nov 2026 08:00:00 GMT", now) == 0.0
    assert http.retry_after_seconds("soon", now) is None
    assert http.retry_after_seconds(None, now) is None
