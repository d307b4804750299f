"""Failures half-way, reruns and concurrent runs end in the same state as one clean publish."""

from __future__ import annotations

import threading
from typing import Any

import pytest

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}
V2 = {"alpha": ("1.1.0", "a2"), "beta": ("1.0.0", "b1")}


class InjectedFailure(Exception):
    """Raised by the hook below to simulate a crash (network, Ctrl-C) between two writes."""


class FailAfter:
    """A before-call hook that lets K write calls through and fails the next one."""

    def __init__(self, allowed_writes: int) -> None:
        self.allowed = allowed_writes
        self.seen = 0

    def __call__(self, **kwargs: Any) -> None:
        name = kwargs["model"].name
        if name.startswith(("Describe", "List", "Search", "Get", "Head")):
            return
        if self.seen >= self.allowed:
            raise InjectedFailure(f"injected failure before write #{self.seen + 1}: {name}")
        self.seen += 1


@pytest.mark.parametrize("allowed", [0, 7, 12, 19])
def test_failure_after_k_writes_then_rerun_converges(harness: Any, allowed: int) -> None:
    desired = harness.desired(V1)
    with pytest.raises(InjectedFailure):
        harness.publish(desired, FailAfter(allowed))
    harness.publish(desired)
    assert harness.publish(desired).writes == []
    snapshot = harness.snapshot()
    assert snapshot["products"] == [
        (
            "alpha",
            [("1.0.0", "content-hash=" + desired.products["alpha"].content_hash, "DEFAULT", True)],
        ),
        (
            "beta",
            [("1.0.0", "content-hash=" + desired.products["beta"].content_hash, "DEFAULT", True)],
        ),
    ]
    assert len(snapshot["constraints"]) == 3
    assert len(snapshot["tag_options"]) == 3


@pytest.mark.parametrize("allowed", [2, 3])
def test_failure_during_a_new_version_then_rerun_converges(harness: Any, allowed: int) -> None:
    harness.publish(harness.desired(V1))
    desired = harness.desired(V2)
    with pytest.raises(InjectedFailure):
        harness.publish(desired, FailAfter(allowed))
    harness.publish(desired)
    assert harness.publish(desired).writes == []
    assert harness.versions("alpha") == {"1.0.0": ("DEFAULT", True), "1.1.0": ("DEFAULT", True)}


class MeetBeforeFirstWrite:
    """Holds each run at its first write until the other run gets there too: both have planned
    on the same empty state, so both really try to create the same things."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier
        self.met = False

    def __call__(self, **kwargs: Any) -> None:
        if not self.met and not kwargs["model"].name.startswith(
            ("Describe", "List", "Search", "Get", "Head")
        ):
            self.met = True
            self.barrier.wait(timeout=30)


def test_two_concurrent_publishes_end_with_one_version_per_hash(harness: Any) -> None:
    desired = harness.desired(V1)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            harness.publish(desired, MeetBeforeFirstWrite(barrier))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    snapshot = harness.snapshot()
    assert snapshot["portfolios"] == ["On-call Tools (test)"]
    assert [(name, len(versions)) for name, versions in snapshot["products"]] == [
        ("alpha", 1),
        ("beta", 1),
    ]
    assert sorted(c[0] for c in snapshot["constraints"]) == ["LAUNCH", "LAUNCH", "TEMPLATE"]
    assert harness.publish(desired).writes == []


def _race(harness: Any, builds: list[Any]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(builds))

    def run(desired: Any) -> None:
        try:
            harness.publish(desired, MeetBeforeFirstWrite(barrier))
        except BaseException as error:  # reported by the caller's assertions
            errors.append(error)

    threads = [threading.Thread(target=run, args=(desired,)) for desired in builds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_racing_different_content_under_one_version_name_keeps_one(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    mine = harness.desired({**V1, "alpha": ("1.1.0", "mine")})
    theirs = harness.desired({**V1, "alpha": ("1.1.0", "theirs")})
    errors = _race(harness, [mine, theirs])
    assert len(errors) == 1, errors
    assert "versions are immutable" in str(errors[0])
    versions = harness.sc.list_provisioning_artifacts(ProductId=harness.product_id("alpha"))
    names = sorted(v["Name"] for v in versions["ProvisioningArtifactDetails"])
    assert names == ["1.0.0", "1.1.0"]


def test_racing_a_new_product_with_different_content_makes_one_product(harness: Any) -> None:
    mine = harness.desired({"alpha": ("1.0.0", "mine")})
    theirs = harness.desired({"alpha": ("1.0.0", "theirs")})
    errors = _race(harness, [mine, theirs])
    assert len(errors) == 1, errors
    assert "versions are immutable" in str(errors[0])
    names = [
        d["ProductViewSummary"]["Name"]
        for d in harness.sc.search_products_as_admin()["ProductViewDetails"]
    ]
    assert names == ["alpha"]
    assert list(harness.versions("alpha")) == ["1.0.0"]
