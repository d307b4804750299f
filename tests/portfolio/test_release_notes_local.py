"""A version's description in the console: its release note, then the content hash and commit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from catalog.manifest import Manifest
from portfolio.current import VersionState, recorded_hash, without_mark
from portfolio.desired import desired_catalog, version_description
from portfolio.rollback import rollback_region

REGION = "us-east-1"
HASH = "ab" * 32


def _with_notes(harness: Any, versions: dict[str, tuple[str, str]], notes: dict[str, str]) -> Any:
    """The harness's build of VERSIONS, its manifest carrying NOTES as the build writes them."""
    desired = harness.desired(versions)
    dist = desired.products[next(iter(versions))].template.path.parents[1]
    manifest_path = dist / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for product, note in notes.items():
        manifest["products"][product]["release_note"] = note
    manifest_path.write_text(json.dumps(manifest))
    return desired_catalog(harness.portfolio, Manifest.load(dist), dist, commit="test")


def _descriptions(harness: Any, product: str) -> dict[str, str]:
    details = harness.sc.list_provisioning_artifacts(ProductId=harness.product_id(product))[
        "ProvisioningArtifactDetails"
    ]
    return {d["Name"]: d["Description"] for d in details}


def test_the_note_leads_the_description_and_older_versions_keep_theirs(harness: Any) -> None:
    harness.publish(harness.desired({"alpha": ("1.0.0", "a1")}))
    noted = _with_notes(
        harness, {"alpha": ("1.1.0", "a2")}, {"alpha": "Alarms available in every region."}
    )
    harness.publish(noted)
    alpha = noted.products["alpha"]
    descriptions = _descriptions(harness, "alpha")
    assert descriptions["1.1.0"] == (
        f"Alarms available in every region. content-hash={alpha.content_hash} commit=test available"
    )
    assert descriptions["1.0.0"].startswith("content-hash=")  # no note: hash and commit
    assert recorded_hash(descriptions["1.1.0"]) == alpha.content_hash
    assert harness.publish(noted).writes == []  # the note is no drift: nothing to write again

    quiet = lambda line: None  # noqa: E731
    rollback_region(harness.sc, REGION, "alpha", "1.0.0", quiet)
    assert _descriptions(harness, "alpha")["1.1.0"].endswith(" available rolled-back")
    rollback_region(harness.sc, REGION, "alpha", "1.1.0", quiet)
    assert _descriptions(harness, "alpha")["1.1.0"] == descriptions["1.1.0"]


def _state(description: str) -> VersionState:
    return VersionState("pa-1", "1.0.0", description, True, "DEFAULT", dt.datetime(2026, 1, 1))


def test_marks_are_read_after_the_hash_only() -> None:
    note = "Not available until rolled-back alarms are fixed."
    fresh = _state(version_description(HASH, "c0ffee", note))
    assert fresh.description == f"{note} content-hash={HASH} commit=c0ffee"
    assert not fresh.seen_available and not fresh.rolled_back
    marked = _state(f"{fresh.description} available rolled-back")
    assert marked.seen_available and marked.rolled_back
    assert without_mark(marked.description, "rolled-back") == (f"{fresh.description} available")
    assert version_description(HASH, "c0ffee") == f"content-hash={HASH} commit=c0ffee"
