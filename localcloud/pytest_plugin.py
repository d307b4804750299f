"""pytest fixtures: one local cloud per test session (per xdist worker), fresh state per test.

Register with `pytest_plugins = ["localcloud.pytest_plugin"]`.
"""

from collections.abc import Iterator

import pytest

from .server import LocalCloud


@pytest.fixture(scope="session")
def localcloud() -> Iterator[LocalCloud]:
    """The running local cloud of this worker process (a free port on 127.0.0.1)."""
    with LocalCloud() as cloud:
        yield cloud


@pytest.fixture
def local_endpoint(localcloud: LocalCloud) -> Iterator[str]:
    """Endpoint URL of a local cloud whose state was just cleared; sets no environment variables."""
    localcloud.reset()
    yield localcloud.endpoint_url
