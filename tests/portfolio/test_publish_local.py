"""Publishing into a real localcloud over HTTP: idempotency proven by counting write calls."""

from __future__ import annotations

from typing import Any

import pytest

from portfolio.errors import VersionConflictError
from portfolio.publish import make_plan

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}


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
    assert snapshot["principals"] == ["arn:aws:iam::123456789012:role/Oncall",
                                      "arn:aws:iam:::role/PlatformEngineer*"]
    assert snapshot["tag_options"] == [("cost-center", "ops"), ("cost-center", "sre"),
                                       ("team", "platform")]


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
