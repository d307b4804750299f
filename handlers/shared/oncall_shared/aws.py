"""boto3 clients created lazily, once per container, with bounded retries and timeouts."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling and 5xx; timeouts keep a hung endpoint from
# eating the whole Lambda timeout. The endpoint is not set here on purpose: boto3 reads
# AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> itself, which is how local runs are redirected.
CLIENT_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"},
    connect_timeout=3,
    read_timeout=10,
)

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service_name: str) -> Any:
    """Return the cached client for ``service_name``, creating it on first use."""
    cached = _clients.get(service_name)
    if cached is not None:
        return cached
    # boto3's default session is not thread-safe while creating clients.
    with _lock:
        if service_name not in _clients:
            _clients[service_name] = boto3.client(service_name, config=CLIENT_CONFIG)
        return _clients[service_name]


def reset_clients() -> None:
    """Forget cached clients (tests switch credentials, regions and endpoints between cases)."""
    with _lock:
        _clients.clear()
