"""The console path: a launch that skips our own checks (straight to Service Catalog, as the
console does) is still refused by the template's Rules before any resource is created."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portfolio.aws import AwsClients
from portfolio.errors import PublishError
from portfolio.workflow import BuiltCatalog, run_launch


def test_a_health_checker_without_targets_is_refused_by_its_rules(
    published: tuple[BuiltCatalog, AwsClients], aws: Callable[[str], Any]
) -> None:
    prepared, clients = published
    with pytest.raises(PublishError) as raised:
        run_launch(
            clients,
            prepared,
            "health-checker",
            "staging",
            overrides={"TargetsJson": "", "TargetsParameterName": ""},
            echo=lambda message: None,
        )
    assert "A health checker needs targets: set TargetsJson or TargetsParameterName." in str(
        raised.value
    )
    tables = aws("dynamodb").list_tables()["TableNames"]
    assert not [name for name in tables if "health-checker-staging" in name]
