"""Rollback: make an earlier version the DEFAULT again and deprecate the newer ones.

Newer versions get a 'rolled-back' mark in their description (one of the few fields Service
Catalog lets us change on a version), so the retention policy of the next publish keeps them
DEPRECATED instead of undoing the rollback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portfolio.current import (
    ROLLED_BACK_MARK,
    VersionState,
    find_product_ids,
    read_published_versions,
    without_mark,
)
from portfolio.errors import PublishError
from portfolio.versions import newest_first


def rollback_region(
    sc: Any, region: str, product: str, to_version: str, progress: Callable[[str], None]
) -> int:
    """Returns the number of versions changed (0 when the rollback is already in place)."""
    product_id = find_product_ids(sc, {product}).get(product)
    if product_id is None:
        raise PublishError(f"{region}: product {product!r} is not published")
    versions = read_published_versions(sc, product_id)
    target = _target(versions, product, to_version, region)
    ordered = [r.key for r in newest_first([v.for_policy() for v in versions])]
    newer = ordered[: ordered.index(target.id)]
    by_id = {v.id: v for v in versions}
    changed = 0
    for version_id in newer:
        changed += _deprecate(sc, product_id, by_id[version_id], progress)
    changed += _make_default(sc, product_id, target, progress)
    return changed


def _target(versions: list[VersionState], product: str, name: str, region: str) -> VersionState:
    matches = [v for v in versions if v.name == name]
    if not matches:
        known = ", ".join(v.name for v in versions) or "none"
        raise PublishError(f"{region}: {product} has no version {name!r} (published: {known})")
    return min(matches, key=lambda v: (v.created, v.id))


def _deprecate(
    sc: Any, product_id: str, version: VersionState, progress: Callable[[str], None]
) -> int:
    if version.rolled_back and version.guidance == "DEPRECATED":
        return 0
    description = (
        version.description
        if version.rolled_back
        else (f"{version.description} {ROLLED_BACK_MARK}".strip())
    )
    sc.update_provisioning_artifact(
        ProductId=product_id,
        ProvisioningArtifactId=version.id,
        Description=description,
        Guidance="DEPRECATED",
    )
    progress(f"{version.name}: DEPRECATED (rolled back)")
    return 1


def _make_default(
    sc: Any, product_id: str, version: VersionState, progress: Callable[[str], None]
) -> int:
    if version.active and version.guidance == "DEFAULT" and not version.rolled_back:
        return 0
    description = without_mark(version.description, ROLLED_BACK_MARK)
    sc.update_provisioning_artifact(
        ProductId=product_id,
        ProvisioningArtifactId=version.id,
        Description=description,
        Active=True,
        Guidance="DEFAULT",
    )
    progress(f"{version.name}: DEFAULT")
    return 1
