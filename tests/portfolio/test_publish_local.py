"""Publishing into a real localcloud over HTTP: idempotency proven by counting write calls."""

from __future__ import annotations

from typing import Any

import pytest

from portfolio.apply import RegionApplier
from portfolio.aws import CallRecorder
from portfolio.current import read_region
from portfolio.errors import PublishError, VersionConflictError
from portfolio.publish import make_plan, publish

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}
REGION = "us-east-1"


def test_first_publish_creates_the_catalog(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    portfolios = harness.sc.list_portfolios()["PortfolioDetails"]
    assert [p["DisplayName"] for p in portfolios] == ["On-call Tools (test)"]
    pid = portfolios[0]["Id"]
    in_portfolio = harness.sc.search_products_as_admin(PortfolioId=pid)["ProductViewDetails"]
    assert sorted(d["ProductViewSummary"]["Name"] for d in in_portfolio) == ["alpha", "beta"]
    assert harness.versions("alpha") == {"1.0.0": ("DEFAULT", True)}
    constraints = harness.sc.list_constraints_for_portfolio(PortfolioId=pid)["ConstraintDetails"]
    assert sorted(c["Type"] for c in constraints) == ["LAUNCH", "LAUNCH", "TEMPLATE"]
    snapshot = harness.snapshot()
    assert snapshot["principals"] == [
        "arn:aws:iam::123456789012:role/Oncall",
        "arn:aws:iam:::role/PlatformEngineer*",
    ]
    assert snapshot["tag_options"] == [
        ("cost-center", "ops"),
        ("cost-center", "sre"),
        ("team", "platform"),
    ]


def test_second_publish_makes_no_write_call_and_plan_is_empty(harness: Any) -> None:
    desired = harness.desired(V1)
    first = harness.publish(desired)
    assert "CreateProduct" in first.writes
    second = harness.publish(desired)
    assert second.writes == []
    plan, _ = make_plan(harness.clients(), desired)
    assert not plan.has_changes


def test_a_deleted_version_is_published_again(harness: Any) -> None:
    # The operator's fix for a FAILED version: delete it and publish again. AWS answers the
    # version's first token with the deleted version (localcloud replays tokens like AWS), so
    # publish must notice the answer is dead and create it under a new token.
    harness.publish(harness.desired(V1))
    bumped = harness.desired({**V1, "alpha": ("1.1.0", "a2")})
    harness.publish(bumped)
    alpha = harness.product_id("alpha")
    [deleted] = [
        v["Id"]
        for v in harness.sc.list_provisioning_artifacts(ProductId=alpha)[
            "ProvisioningArtifactDetails"
        ]
        if v["Name"] == "1.1.0"
    ]
    harness.sc.delete_provisioning_artifact(ProductId=alpha, ProvisioningArtifactId=deleted)

    recorder = harness.publish(bumped)

    assert recorder.writes.count("CreateProvisioningArtifact") == 2  # the replay, then the new
    assert harness.versions("alpha") == {"1.0.0": ("DEFAULT", True), "1.1.0": ("DEFAULT", True)}
    plan, _ = make_plan(harness.clients(), bumped)
    assert not plan.has_changes


def test_waiting_for_a_version_that_no_longer_exists_gives_up_with_a_clear_error(
    harness: Any,
) -> None:
    # "Not found" is waited out only as long as a fresh version may take to become readable
    # (1 s in these tests): a version deleted meanwhile must not hold publish for 10 minutes.
    desired = harness.desired(V1)
    harness.publish(desired)
    clients = harness.clients()
    sc, s3 = clients.client("servicecatalog", REGION), clients.client("s3", REGION)
    applier = RegionApplier(sc, s3, desired, read_region(sc, s3, desired, REGION))
    with pytest.raises(PublishError, match=r"version pa-gone of alpha does not exist"):
        applier._wait_available("alpha", "pa-gone")


def test_a_version_listing_that_lags_behind_creation_makes_no_duplicate(harness: Any) -> None:
    # Service Catalog reads are eventually consistent. Here ListProvisioningArtifacts answers
    # empty for the whole first publish (moto's real answer, emptied): longer than publish waits
    # (1 s in these tests), so it must trust what CreateProduct answered instead of creating
    # the same version a second time.
    def lagging(parsed: dict[str, Any], **_: Any) -> None:
        parsed["ProvisioningArtifactDetails"] = []

    recorder = CallRecorder()
    clients = harness.clients(recorder)  # publish reuses this cached client, lag and all
    clients.client("servicecatalog", REGION).meta.events.register(
        "after-call.servicecatalog.ListProvisioningArtifacts", lagging
    )
    publish(clients, harness.desired(V1), lambda change: None)

    assert recorder.writes.count("CreateProduct") == 2
    assert "CreateProvisioningArtifact" not in recorder.writes
    assert harness.versions("alpha") == {"1.0.0": ("DEFAULT", True)}


def test_bump_publishes_exactly_one_new_version(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    recorder = harness.publish(harness.desired({**V1, "alpha": ("1.1.0", "a2")}))
    assert recorder.writes.count("CreateProvisioningArtifact") == 1
    assert "CreateProduct" not in recorder.writes
    assert harness.versions("alpha") == {"1.0.0": ("DEFAULT", True), "1.1.0": ("DEFAULT", True)}
    assert harness.versions("beta") == {"1.0.0": ("DEFAULT", True)}


def test_changed_content_without_bump_is_refused_before_any_write(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    changed = harness.desired({**V1, "alpha": ("1.0.0", "a2")})
    recorder_calls: list[str] = []

    def record(**kwargs: Any) -> None:
        recorder_calls.append(kwargs["model"].name)

    with pytest.raises(VersionConflictError, match=r"alpha version '1.0.0'.*bump"):
        harness.publish(changed, record)
    assert recorder_calls  # it did read
    assert [c for c in recorder_calls if c.startswith(("Create", "Put", "Update"))] == []


def test_retention_deprecates_and_deactivates_old_versions(harness: Any) -> None:
    for minor in range(4):  # keep_active 2, deactivate_after 3 in the test config
        harness.publish(harness.desired({"alpha": (f"1.{minor}.0", f"a{minor}")}))
    assert harness.versions("alpha") == {
        "1.3.0": ("DEFAULT", True),
        "1.2.0": ("DEFAULT", True),
        "1.1.0": ("DEPRECATED", True),
        "1.0.0": ("DEPRECATED", False),
    }
