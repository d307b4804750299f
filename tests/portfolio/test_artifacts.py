"""Every artifact under dist/ is checked against the manifest's content hash before publishing:
an edited file whose key was made consistent with it is refused, naming file and hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from catalog.manifest import Manifest
from portfolio.artifacts import ArtifactMismatchError
from portfolio.desired import desired_catalog
from tests.portfolio.conftest import write_dist

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}


def _edit_manifest(dist: Path, product: str, **fields: Any) -> Manifest:
    path = dist / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["products"][product].update(fields)
    path.write_text(json.dumps(manifest, indent=2))
    return Manifest.load(dist)


def _edit_template_keeping_its_key_consistent(dist: Path, product: str) -> tuple[str, str]:
    """Edit dist/templates/PRODUCT.json and give it the key its new bytes hash to; returns the
    (content hash the build recorded, sha256 of the edited file)."""
    template = dist / "templates" / f"{product}.json"
    body = json.loads(template.read_text())
    body["Resources"]["Extra"] = {"Type": "AWS::SQS::Queue"}
    edited = json.dumps(body, sort_keys=True).encode()
    template.write_bytes(edited)
    actual = hashlib.sha256(edited).hexdigest()
    built = Manifest.load(dist).products[product].content_hash
    _edit_manifest(dist, product, template_key=f"templates/{product}/{actual}.json")
    return built, actual


def test_an_edited_template_with_a_consistent_key_is_refused(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    make_dist(tmp_path, V1)
    built, actual = _edit_template_keeping_its_key_consistent(tmp_path, "alpha")
    with pytest.raises(ArtifactMismatchError) as refused:
        desired_catalog(portfolio_config, Manifest.load(tmp_path), tmp_path)
    message = str(refused.value)
    assert "\n" not in message
    assert str(tmp_path / "templates" / "alpha.json") in message
    assert built in message
    assert actual in message
    assert "python build.py build" in message


def test_an_edited_template_whose_manifest_hash_was_edited_too_is_refused(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    # The build recorded 1.0.0 with its hash in version_history: the edit cannot claim that name.
    make_dist(tmp_path, V1)
    built = Manifest.load(tmp_path).products["alpha"].content_hash
    _, actual = _edit_template_keeping_its_key_consistent(tmp_path, "alpha")
    manifest = _edit_manifest(
        tmp_path, "alpha", content_hash=actual, version_history={"1.0.0": built}
    )
    with pytest.raises(ArtifactMismatchError, match=rf"recorded with content hash {built}"):
        desired_catalog(portfolio_config, manifest, tmp_path)


def test_a_package_the_template_does_not_launch_is_refused(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    # A replaced package, its file and key consistent with each other: the template (covered by
    # the content hash) still names the package that was built.
    make_dist(tmp_path, V1)
    other = b"other code"
    sha = hashlib.sha256(other).hexdigest()
    (tmp_path / "packages" / f"alpha-{sha}.zip").write_bytes(other)
    manifest = _edit_manifest(
        tmp_path,
        "alpha",
        package=f"packages/alpha-{sha}.zip",
        package_key=f"packages/alpha/{sha}.zip",
    )
    with pytest.raises(ArtifactMismatchError, match=r"not a package the template launches"):
        desired_catalog(portfolio_config, manifest, tmp_path)


def test_a_package_edited_in_place_is_refused(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    manifest = make_dist(tmp_path, V1)
    package = tmp_path / manifest.products["beta"].package
    package.write_bytes(b"edited")
    with pytest.raises(ArtifactMismatchError, match=rf"{package}: sha256 is .*expected"):
        desired_catalog(portfolio_config, manifest, tmp_path)


def test_an_untouched_build_passes(
    tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any
) -> None:
    manifest = make_dist(tmp_path, V1)
    desired = desired_catalog(portfolio_config, manifest, tmp_path)
    assert desired.products["alpha"].template.key == manifest.products["alpha"].template_key


def test_publish_of_an_edited_template_writes_nothing(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    before = harness.snapshot()
    dist = harness.root / "tampered"
    dist.mkdir()
    write_dist(dist, {**V1, "alpha": ("1.0.0", "a1")})
    _edit_template_keeping_its_key_consistent(dist, "alpha")
    with pytest.raises(ArtifactMismatchError, match=r"alpha.json: sha256 is"):
        harness.publish(desired_catalog(harness.portfolio, Manifest.load(dist), dist))
    assert harness.snapshot() == before
    assert harness.versions("alpha") == {"1.0.0": ("DEFAULT", True)}
