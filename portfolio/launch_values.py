"""`launch` checks its values (catalog.yaml's for the environment, then --param) before any
AWS call, against the built template in dist/ and the tool's settings schema
(products/launch_values.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from catalog.config import CatalogConfig
from catalog.manifest import Manifest
from products.launch_values import (
    LaunchValueError,
    LaunchValues,
    catalog_launch,
    check_launch,
    template_constraints,
)
from products.spec import discover_products


class BuiltCatalog(Protocol):
    """What is read of portfolio.workflow.BuiltCatalog (which calls in here: no import back)."""

    @property
    def config(self) -> CatalogConfig: ...
    @property
    def dist_dir(self) -> Path: ...
    @property
    def manifest(self) -> Manifest: ...


def check_launch_request(
    built: BuiltCatalog, product: str, environment: str, overrides: Mapping[str, str]
) -> None:
    """Refuse PRODUCT's launch in ENVIRONMENT with OVERRIDES (--param) if anything is invalid."""
    chosen = overrides.get("Environment", environment)
    if chosen != environment:
        raise LaunchValueError(
            f"--param Environment={chosen!r}: the environment is chosen with --env "
            f"({', '.join(built.config.environment_names)}), not with --param"
        )
    # A product without a module in products/tools (a test's) has no settings schema.
    configured = catalog_launch(
        built.config, discover_products().get(product, product), environment
    )
    values = {**configured.values, **overrides}

    def label(name: str) -> str:
        return f"--param {name}" if name in overrides else configured.label(name)

    where = f"launch {product} --env {environment}"
    launch = LaunchValues(product, values, label, where, configured.schema)
    check_launch(
        launch, _built_template(built, product), template_constraints(built.config, product)
    )


def _built_template(built: BuiltCatalog, product: str) -> dict[str, Any]:
    path = built.dist_dir / built.manifest.products[product].template
    template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return template
