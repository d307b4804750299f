"""Build every product: package its handler, generate its template, check its version.

Pure: reads the config and the source tree, makes no AWS call, and the same inputs give the
same bytes. It writes under the output folder, plus the cache of Lambda dependencies in .cache/
(keyed by the pinned requirements, platform and pip version). Nothing in the output folder
changes until every product has been built and checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.config import CatalogConfig
from catalog.manifest import MANIFEST_NAME, Manifest, ProductArtifact
from products.builder import ProductBuilder
from products.errors import BuildError
from products.infra import build_bootstrap_template
from products.launch_values import check_catalog_launches
from products.packaging import (
    LAMBDA_PLATFORMS,
    LambdaPlatform,
    build_handler_zip,
    package_digest,
)
from products.pipeline import build_pipeline_template
from products.release_notes import CHANGELOG_DIR, read_release_notes
from products.spec import Product, discover_products
from products.spoke import build_spoke_template
from products.versions import VERSIONS_FILE, VersionRecord, check_version, read_version_records

Progress = Callable[[str], None]


def template_json(document: dict[str, Any]) -> str:
    """How every template is serialised (and hashed): sorted keys, indent 2, final newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def selected_products(config: CatalogConfig, only: list[str] | None = None) -> dict[str, Product]:
    """The discovered products (optionally just ONLY), checked against the config."""
    products = discover_products()
    _check_config_matches(config, products)
    if not only:
        return products
    unknown = sorted(set(only) - set(products))
    if unknown:
        raise BuildError(f"unknown product(s) {', '.join(unknown)}; known: {', '.join(products)}")
    return {name: product for name, product in products.items() if name in only}


def render_product(
    product: Product,
    config: CatalogConfig,
    package_key: str,
    platform_keys: dict[LambdaPlatform, str] | None = None,
) -> str:
    """The product's template as canonical JSON."""
    template = ProductBuilder(product, config, package_key, platform_keys or {}).build()
    return template_json(template.to_dict())


def build_all(
    config: CatalogConfig,
    out_dir: Path,
    only: list[str] | None = None,
    *,
    progress: Progress = lambda message: None,
    check_versions: bool = True,
    versions_path: Path = VERSIONS_FILE,
    changelog_dir: Path = CHANGELOG_DIR,
) -> Manifest:
    """Build the selected products and the catalog's infrastructure into OUT_DIR.

    Everything is built and checked in a staging folder first; OUT_DIR changes only once every
    product passed, so a refused version or a failed package leaves the previous build intact.
    """
    products = selected_products(config, only)
    records = read_version_records(versions_path)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_ensure(out_dir)))
    try:
        built = [
            _build_product(
                product,
                config,
                staging,
                records,
                check_versions=check_versions,
                progress=progress,
                changelog_dir=changelog_dir,
            )
            for product in products.values()
        ]
        # Every environment's launch values, against the templates just built: a typo in
        # catalog.yaml fails the build, not a launch after other launches of the release ran.
        check_catalog_launches(
            config, {item.product.name: (item.product, json.loads(item.template)) for item in built}
        )
        progress("building catalog infrastructure")
        return _publish_build(config, out_dir, built, infra_templates(config))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def infra_templates(config: CatalogConfig) -> dict[str, str]:
    """The catalog's own stacks, by name: bootstrap (per region), pipeline, spoke (per account)."""
    builders = {
        "bootstrap": build_bootstrap_template,
        "pipeline": build_pipeline_template,
        "spoke": build_spoke_template,
    }
    return {name: template_json(build(config).to_dict()) for name, build in builders.items()}


@dataclass(frozen=True)
class _BuiltProduct:
    product: Product
    package: Path  # in the staging folder
    platform_packages: tuple[Path, ...]  # one per LambdaArchitecture x LambdaRuntime, or none
    template: str
    artifact: ProductArtifact


def _publish_build(
    config: CatalogConfig, out_dir: Path, built: list[_BuiltProduct], infra: dict[str, str]
) -> Manifest:
    for item in built:
        package = out_dir / item.artifact.package
        package.parent.mkdir(parents=True, exist_ok=True)
        kept = {package}
        for staged in (item.package, *item.platform_packages):
            # Products sharing a handler folder share packages: the first moved them already.
            if staged.exists():
                staged.replace(package.parent / staged.name)
            kept.add(package.parent / staged.name)
        _remove_stale_packages(package.parent, item.product.handler, keep=kept)
        _write(out_dir / item.artifact.template, item.template)
    for name, text in infra.items():
        _write(out_dir / "infra" / f"{name}.json", text)
    manifest = Manifest(
        config.catalog["artifact_bucket_prefix"],
        {name: f"infra/{name}.json" for name in infra},
        {item.product.name: item.artifact for item in built},
    )
    _write(out_dir / MANIFEST_NAME, manifest.to_json())
    return manifest


def content_hashes(
    config: CatalogConfig, scratch: Path, only: list[str] | None = None
) -> dict[str, str]:
    """Each product's current content hash (what `bump` records), built into SCRATCH."""
    hashes = {}
    for name, product in selected_products(config, only).items():
        package = build_handler_zip(product.handler, scratch / "packages")
        platforms = _platform_packages(product, scratch / "packages")
        template = render_product(
            product, config, _package_key(product, package), _platform_keys(product, platforms)
        )
        hashes[name] = sha256_text(template)
    return hashes


def _build_product(
    product: Product,
    config: CatalogConfig,
    staging: Path,
    records: dict[str, VersionRecord],
    *,
    check_versions: bool,
    progress: Progress,
    changelog_dir: Path = CHANGELOG_DIR,
) -> _BuiltProduct:
    progress(f"building {product.name}")
    package = build_handler_zip(product.handler, staging / "packages")
    package_key = _package_key(product, package)
    platforms = _platform_packages(product, staging / "packages")
    template = render_product(product, config, package_key, _platform_keys(product, platforms))
    content_hash = sha256_text(template)
    version = check_version(product.name, content_hash, records) if check_versions else "0.0.0"
    meta = config.products[product.name]
    artifact = ProductArtifact(
        version=version,
        content_hash=content_hash,
        description=meta["description"],
        owner=meta["owner"],
        distributor=meta.get("distributor", meta["owner"]),
        support_email=meta.get("support_email", ""),
        support_url=meta.get("support_url", ""),
        template=f"templates/{product.name}.json",
        template_key=f"templates/{product.name}/{content_hash}.json",
        package=f"packages/{package.name}",
        package_key=package_key,
        platform_packages={
            _package_key(product, path): f"packages/{path.name}"
            for path in platforms.values()
            if path != package
        },
        version_history=dict(records[product.name].history) if product.name in records else {},
        release_note=_release_note(product.name, version, changelog_dir),
    )
    return _BuiltProduct(product, package, tuple(platforms.values()), template, artifact)


def _release_note(product: str, version: str, changelog_dir: Path) -> str:
    recorded = read_release_notes(product, changelog_dir).get(version)
    return recorded.note if recorded else ""


def _package_key(product: Product, package: Path) -> str:
    return f"packages/{product.handler}/{package_digest(package)}.zip"


def _platform_packages(product: Product, out_dir: Path) -> dict[LambdaPlatform, Path]:
    """A tool with compiled dependencies gets one package per architecture and runtime."""
    if not getattr(product, "per_platform_packages", False):
        return {}
    return {
        platform: build_handler_zip(product.handler, out_dir, platform=platform)
        for platform in LAMBDA_PLATFORMS
    }


def _platform_keys(
    product: Product, packages: dict[LambdaPlatform, Path]
) -> dict[LambdaPlatform, str]:
    return {platform: _package_key(product, path) for platform, path in packages.items()}


def _remove_stale_packages(folder: Path, tool: str, keep: set[Path]) -> None:
    # Old packages of this tool would make two builds of the same input differ in dist/.
    for old in folder.glob(f"{tool}-*.zip"):
        if old not in keep and old.name.removeprefix(f"{tool}-").count("-") == 0:
            old.unlink()


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write(path: Path, text: str) -> None:
    _ensure(path.parent)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    # A name of our own per process: two builds into one folder never share a partial file.
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _check_config_matches(config: CatalogConfig, products: dict[str, Product]) -> None:
    missing = sorted(set(products) - set(config.products))
    if missing:
        raise BuildError(
            f"{config.path}: products.{missing[0]} is missing: every product module needs an "
            "entry (description, owner) in the config"
        )
    orphans = sorted(set(config.products) - set(products))
    if orphans:
        raise BuildError(
            f"{config.path}: products.{orphans[0]}: no product module products/tools/ defines it"
        )
