"""build_all: every product and the bootstrap template, byte-identical across builds."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from catalog.config import CatalogConfig
from products.build import Manifest, build_all
from products.errors import BuildError, VersionError
from products.spec import discover_products
from products.versions import VersionRecord, read_version_records, write_version_records

PRODUCT_NAMES = sorted(discover_products())


def _digest_tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_build_writes_every_product(built: tuple[Path, Manifest]) -> None:
    out, manifest = built
    assert sorted(manifest.products) == PRODUCT_NAMES
    for name in PRODUCT_NAMES:
        assert (out / "templates" / f"{name}.json").is_file()
    per_platform = sum(len(a.platform_packages) for a in manifest.products.values())
    assert len(list((out / "packages").glob("*.zip"))) == len(PRODUCT_NAMES) + per_platform
    assert (out / "infra" / "bootstrap.json").is_file()
    on_disk = json.loads((out / "manifest.json").read_text())
    for name in PRODUCT_NAMES:
        assert on_disk["products"][name]["version"] == read_version_records()[name].version


def test_template_references_its_package_key(built: tuple[Path, Manifest]) -> None:
    out, manifest = built
    for artifact in manifest.products.values():
        template = json.loads((out / artifact.template).read_text())
        code = template["Resources"]["Function"]["Properties"]["Code"]
        # A tool with per-platform packages picks among them; its default platform's is the
        # package itself (tests/products/test_platform_packages.py checks every choice).
        keys = json.dumps(code["S3Key"])
        assert artifact.package_key in keys
        assert all(key in keys for key in artifact.platform_packages)
        assert code["S3Bucket"] == {
            "Fn::Sub": f"{manifest.artifact_bucket_prefix}-${{AWS::Region}}"
        }


def test_building_twice_gives_identical_bytes(
    built: tuple[Path, Manifest], config: CatalogConfig, tmp_path: Path
) -> None:
    out, _ = built
    build_all(config, tmp_path)
    assert _digest_tree(tmp_path) == _digest_tree(out)
    build_all(config, tmp_path)
    assert _digest_tree(tmp_path) == _digest_tree(out)


def test_product_option_limits_the_build(config: CatalogConfig, tmp_path: Path) -> None:
    manifest = build_all(config, tmp_path, only=["health-checker"])
    assert set(manifest.products) == {"health-checker"}
    assert [p.name for p in (tmp_path / "templates").iterdir()] == ["health-checker.json"]
    known = ", ".join(PRODUCT_NAMES)
    with pytest.raises(BuildError, match=rf"unknown product.*nope; known: {re.escape(known)}$"):
        build_all(config, tmp_path, only=["nope"])


def test_changed_content_without_bump_fails_before_writing(
    config: CatalogConfig, tmp_path: Path
) -> None:
    versions = tmp_path / "versions.json"
    records = read_version_records()
    stale = records["auto-healer"]
    records["auto-healer"] = VersionRecord(stale.version, "0" * 64, {stale.version: "0" * 64})
    write_version_records(records, versions)
    out = tmp_path / "dist"
    with pytest.raises(VersionError, match=r"auto-healer: content changed .*bump auto-healer"):
        build_all(config, out, versions_path=versions)
    # Products built before the refused one are not written either: nothing half applied.
    assert [path.name for path in out.iterdir()] == []


def test_a_refused_build_leaves_the_previous_build_intact(
    config: CatalogConfig, tmp_path: Path
) -> None:
    previous = tmp_path / "dist"
    build_all(config, previous)
    before = _digest_tree(previous)
    versions = tmp_path / "versions.json"
    records = read_version_records()
    records["log-processor"] = VersionRecord("1.0.0", "0" * 64, {"1.0.0": "0" * 64})
    write_version_records(records, versions)
    with pytest.raises(VersionError):
        build_all(config, previous, versions_path=versions)
    assert _digest_tree(previous) == before
