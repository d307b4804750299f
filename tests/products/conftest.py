"""Fixtures for the product tests: the real config, and one real build shared by the session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import CatalogConfig, load_config
from products.build import Manifest, build_all


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/products/golden/ from the current build instead of comparing.",
    )


@pytest.fixture(scope="session")
def config() -> CatalogConfig:
    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="session")
def built(config: CatalogConfig, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """One real build (packages included) into a session folder, versions checked."""
    out = tmp_path_factory.mktemp("dist")
    return out, build_all(config, out)


@pytest.fixture(scope="session")
def templates(built: tuple[Path, Manifest]) -> dict[str, dict[str, Any]]:
    out, manifest = built
    return {
        name: json.loads((out / artifact.template).read_text())
        for name, artifact in manifest.products.items()
    }
