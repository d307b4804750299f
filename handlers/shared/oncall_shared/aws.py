"""boto3 clients created lazily, once per container, with bounded retries and timeouts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling and 5xx; timeouts keep a hung endpoint from
# eating the whole Lambda timeout. The endpoint is not set here on purpose: boto3 reads
# AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> itself, which is how local runs are redirected.
# In Config(retries=...), "max_attempts" counts retries after the first try (5 would mean 6
# calls); "total_max_attempts" is the AWS config-file meaning of max_attempts: 5 calls in all.
CLIENT_CONFIG = Config(
    retries={"total_max_attempts": 5, "mode": "standard"},
    connect_timeout=3,
    read_timeout=10,
)

_clients: dict[tuple[str, str | None], Any] = {}
# Objects built on those clients (Powertools parameter providers and their caches).
_companions: dict[str, Any] = {}
_lock = threading.Lock()
T = TypeVar("T")


def client(service_name: str, region_name: str | None = None) -> Any:
    """Return the cached client for ``service_name`` (in ``region_name``, default: the
    function's region), creating it on first use."""
    key = (service_name, region_name)
    cached = _clients.get(key)
    if cached is not None:
        return cached
    # boto3's default session is not thread-safe while creating clients.
    with _lock:
        if key not in _clients:
            _clients[key] = boto3.client(
                service_name, region_name=region_name, config=CLIENT_CONFIG
            )
        return _clients[key]


def client_companion(name: str, build: Callable[[], T]) -> T:
    """The object ``build`` makes once per container, forgotten with the clients it uses."""
    cached = _companions.get(name)
    if cached is None:
        cached = _companions.setdefault(name, build())
    return cached  # type: ignore[no-any-return]


def reset_clients() -> None:
    """Forget cached clients and what was built on them (tests switch credentials, regions and
    endpoints between cases)."""
    with _lock:
        _clients.clear()
        _companions.clear()
