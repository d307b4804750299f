"""dist/manifest.json: what a build produced, written by products.build and read by portfolio.

The one description of the build output both sides share: the build writes it last (so a
manifest means a finished build), publish and bootstrap read it back only through Manifest.load,
which checks every field they rely on.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import BuildOutputError

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ProductArtifact:
    """One built product: its version, content hash, catalog metadata and files under dist/."""

    version: str
    content_hash: str
    description: str
    owner: str
    distributor: str
    support_email: str
    support_url: str
    template: str  # path under dist/
    template_key: str  # S3 key it is published under (content-addressed)
    package: str
    package_key: str
    # More packages the template picks from (per LambdaArchitecture x LambdaRuntime): S3 key ->
    # path under dist/. Published like the package.
    platform_packages: dict[str, str] = field(default_factory=dict)
    # Every version recorded for the product and its content hash, from the versions file the
    # build checked against: status compares older published versions with it.
    version_history: dict[str, str] = field(default_factory=dict)
    # The version's one-line release note (products/changelogs/<product>/CHANGELOG.md), or "".
    release_note: str = ""


@dataclass(frozen=True)
class Manifest:
    artifact_bucket_prefix: str
    infra: dict[str, str]  # e.g. {"bootstrap": "infra/bootstrap.json"}
    products: dict[str, ProductArtifact]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, dist_dir: Path) -> Manifest:
        """The manifest of the build in DIST_DIR; BuildOutputError names what is missing."""
        raw = _read(dist_dir / MANIFEST_NAME)
        entries = _required(raw, "products", "manifest")
        return cls(
            artifact_bucket_prefix=_required(raw, "artifact_bucket_prefix", "manifest"),
            infra=dict(raw.get("infra") or {}),
            products={name: _product(name, entry) for name, entry in entries.items()},
        )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BuildOutputError(f"{path}: not found; run `python build.py build` first") from error
    except json.JSONDecodeError as error:
        raise BuildOutputError(f"{path}: not valid JSON ({error.msg})") from error
    if not isinstance(data, dict):
        raise BuildOutputError(f"{path}: expected an object, got {type(data).__name__}")
    return data


def _product(name: str, entry: dict[str, Any]) -> ProductArtifact:
    where = f"manifest products.{name}"
    required = ("version", "content_hash", "description", "owner")
    files = ("template", "template_key", "package", "package_key")
    return ProductArtifact(
        **{key: _required(entry, key, where) for key in (*required, *files)},
        distributor=entry.get("distributor", ""),
        support_email=entry.get("support_email", ""),
        support_url=entry.get("support_url", ""),
        version_history=dict(entry.get("version_history") or {}),
        platform_packages=dict(entry.get("platform_packages") or {}),
        release_note=str(entry.get("release_note") or ""),
    )


def _required(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping or mapping[key] in (None, ""):
        raise BuildOutputError(f"{where}: {key!r} is missing")
    return mapping[key]
