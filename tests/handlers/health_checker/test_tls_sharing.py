"""One TLS context per run: building one loads the CA bundle (about 20 ms of CPU), which a run of
a thousand https targets must not pay per target."""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from health_runner import HealthSettings, run_checks
from health_targets import HttpTarget


def test_every_https_probe_of_a_run_shares_one_context(
    tls_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert_file))
    built: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counted() -> ssl.SSLContext:
        built.append(real())
        return built[-1]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    url = f"https://localhost:{tls_server.port}/"
    targets = [HttpTarget(name=f"t{i}", url=url, body_contains="tls ok") for i in range(3)]
    settings = HealthSettings(targets, "table", "topic", "test", 3, 5.0, True)
    results = run_checks(settings, {}, 30.0)
    assert [result.healthy for result in results] == [True, True, True], results
    assert len(built) == 1
