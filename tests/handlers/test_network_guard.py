"""The suite's network guard (tests/conftest.py) stops and fails any attempt beyond loopback.

Every attempt below is made only after checking that the guard is installed and judges the
address as not loopback, so even a broken guard sends nothing from these tests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import ATTEMPTS, NetworkGuardError, is_loopback_host

REPO_ROOT = Path(__file__).resolve().parents[2]


def require_guard_for(host: str) -> None:
    assert getattr(socket, "_oncall_network_guard", False), "network guard not installed"
    assert not is_loopback_host(host)


def taken_attempts() -> list[str]:
    """The attempts recorded so far, cleared so that this test itself passes."""
    found = [attempt.describe() for attempt in ATTEMPTS]
    ATTEMPTS.clear()
    return found


@pytest.mark.parametrize(
    "attempt",
    [
        lambda: socket.create_connection(("10.0.0.1", 80), timeout=0.1),
        lambda: socket.socket().connect(("10.0.0.1", 80)),
        lambda: socket.socket().connect_ex(("10.0.0.1", 80)),
        lambda: socket.socket(socket.AF_INET6).connect(("2002:a00:1::", 80, 0, 0)),
        lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("10.0.0.1", 53)),
        lambda: socket.getaddrinfo("example.com", 443),
    ],
    ids=["create_connection", "connect", "connect_ex", "connect_ipv6", "sendto", "getaddrinfo"],
)
def test_an_attempt_beyond_loopback_is_refused_before_sending_and_recorded(attempt):
    require_guard_for("10.0.0.1")

    with pytest.raises(NetworkGuardError, match="tests reach only loopback"):
        attempt()

    assert len(taken_attempts()) == 1


def test_an_attempt_from_another_thread_is_recorded_against_the_test():
    require_guard_for("10.0.0.1")
    swallowed: list[OSError] = []

    def quietly() -> None:  # code under test that catches the error must not hide it
        try:
            socket.create_connection(("10.0.0.1", 80), timeout=0.1)
        except OSError as error:
            swallowed.append(error)

    worker = threading.Thread(target=quietly, name="probe-worker")
    worker.start()
    worker.join()

    assert len(swallowed) == 1
    assert taken_attempts() == ["create_connection 10.0.0.1:80 (thread 'probe-worker')"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "::1", "localhost", "::ffff:127.0.0.1"])
def test_loopback_stays_allowed(host):
    assert is_loopback_host(host)


def test_names_under_invalid_do_not_resolve_and_are_not_attempts():
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("no-such-host.invalid", 80)
    assert ATTEMPTS == []


INNER_TEST = """
import socket, threading

def test_connects_to_10_0_0_1():
    assert getattr(socket, "_oncall_network_guard", False)
    try:
        socket.create_connection(("10.0.0.1", 80), timeout=0.1)
    except OSError:
        pass  # swallowed: only the guard can fail this test

def test_connects_from_a_thread():
    assert getattr(socket, "_oncall_network_guard", False)
    def attempt():
        try:
            socket.socket().connect(("10.0.0.1", 80))
        except OSError:
            pass
    worker = threading.Thread(target=attempt)
    worker.start()
    worker.join()

def test_stays_on_loopback():
    server = socket.create_server(("127.0.0.1", 0))
    socket.create_connection(server.getsockname()).close()
    server.close()
"""


def test_the_guard_fails_a_test_that_tries_10_0_0_1(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER_TEST, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    ini, inner = str(tmp_path / "pytest.ini"), str(tmp_path / "test_inner.py")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.conftest",
            "-c",
            ini,
            inner,
        ],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 errors" in done.stdout and "3 passed" in done.stdout, done.stdout
    assert "create_connection 10.0.0.1:80 (thread 'MainThread')" in done.stdout
    assert "connect 10.0.0.1:80 (thread 'Thread-" in done.stdout
