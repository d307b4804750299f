"""Every AWS call publish and launch make is declared in products/permissions.py.

The real build is bootstrapped, then published and launched against localcloud through clients
with a botocore before-call hook that records each operation; each recorded operation must be
covered by a declared permission of that role (or need none), so a new call in the code cannot
ship without the pipeline's roles and docs/publishing.md learning about it.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

import pytest

from catalog.config import load_config
from catalog.manifest import Manifest
from portfolio.aws import AwsClients, Target
from portfolio.demo import create_demo_prerequisites
from portfolio.desired import desired_catalog
from portfolio.workflow import (
    BuiltCatalog,
    run_bootstrap,
    run_launch,
    run_plan,
    run_publish,
    run_status,
)
from products.build import build_all
from products.permissions import DEPLOY, PUBLISH, UNGOVERNED_OPERATIONS, Permission

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class OperationRecorder:
    """A before-call hook: 'service:Operation' of every call, named as IAM prefixes name it."""

    def __init__(self) -> None:
        self.operations: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, **kwargs: Any) -> None:
        model = kwargs["model"]
        with self._lock:
            self.operations.add(f"{model.service_model.signing_name}:{model.name}")


def _undeclared(recorded: set[str], declared: tuple[Permission, ...]) -> list[str]:
    covered = {operation for permission in declared for operation in permission.covers()}
    return sorted(recorded - covered - UNGOVERNED_OPERATIONS)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> BuiltCatalog:
    dist = tmp_path_factory.mktemp("dist")
    config = load_config(REPO / "catalog.yaml")
    build_all(config, dist, check_versions=False)
    manifest = Manifest.load(dist)
    return BuiltCatalog(config, dist, manifest, desired_catalog(config.portfolio, manifest, dist))


def _changed_portfolio(built: BuiltCatalog) -> BuiltCatalog:
    """The same build with a portfolio whose settings all differ: the update paths run."""
    portfolio = copy.deepcopy(built.config.portfolio)
    portfolio["description"] = "Changed by the permissions test"
    portfolio["principals"] = [{"type": "IAM", "arn": "arn:aws:iam::123456789012:role/Oncall"}]
    portfolio["tag_options"] = {"team": ["platform", "sre"]}
    portfolio["shares"] = {"accounts": ["210987654321"], "share_tag_options": True}
    desired = desired_catalog(portfolio, built.manifest, built.dist_dir)
    return BuiltCatalog(built.config, built.dist_dir, built.manifest, desired)


def test_publish_calls_only_declared_actions(prepared: BuiltCatalog, cloud_endpoint: str) -> None:
    run_bootstrap(AwsClients(Target(endpoint_url=cloud_endpoint)), prepared, lambda line: None)
    recorder = OperationRecorder()
    clients = AwsClients(Target(endpoint_url=cloud_endpoint), (recorder,))
    run_plan(clients, prepared)
    run_publish(clients, prepared, lambda change: None)
    changed = _changed_portfolio(prepared)
    run_plan(clients, changed)
    run_publish(clients, changed, lambda change: None)
    run_status(clients, changed)  # the Publish stage ends with `status`
    assert {"servicecatalog:CreateProduct", "servicecatalog:CreatePortfolioShare"} <= (
        recorder.operations
    )
    assert _undeclared(recorder.operations, PUBLISH) == []


def test_launch_calls_only_declared_actions(prepared: BuiltCatalog, cloud_endpoint: str) -> None:
    setup = AwsClients(Target(endpoint_url=cloud_endpoint))
    run_bootstrap(setup, prepared, lambda line: None)
    run_publish(setup, prepared, lambda change: None)
    create_demo_prerequisites(setup, prepared, "dev")
    recorder = OperationRecorder()
    clients = AwsClients(Target(endpoint_url=cloud_endpoint), (recorder,))
    product = sorted(prepared.desired.products)[0]
    for _ in range(2):  # the first provisions, the second updates
        run_launch(clients, prepared, product, "dev", overrides={}, echo=lambda line: None)
    assert {"servicecatalog:ProvisionProduct", "servicecatalog:UpdateProvisionedProduct"} <= (
        recorder.operations
    )
    assert _undeclared(recorder.operations, DEPLOY) == []


def test_an_undeclared_call_is_reported() -> None:
    recorded = {"servicecatalog:CreatePortfolio", "s3:HeadObject", "s3:DeleteObject"}
    assert _undeclared(recorded, PUBLISH) == ["s3:DeleteObject"]
    assert _undeclared({"sts:GetCallerIdentity"}, DEPLOY) == []
