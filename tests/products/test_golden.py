"""Each product's template is pinned in tests/products/golden/ and compared exactly.

Regenerate after an intended change with:
    .venv/bin/python -m pytest tests/products/test_golden.py --update-golden
and review the diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from products.build import Manifest
from products.spec import discover_products

GOLDEN_DIR = Path(__file__).parent / "golden"

GOLDEN_NAMES = [*discover_products(), "bootstrap"]


def _built_text(out: Path, manifest: Manifest, name: str) -> str:
    if name == "bootstrap":
        return (out / manifest.infra["bootstrap"]).read_text()
    return (out / manifest.products[name].template).read_text()


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_template_matches_golden(
    name: str, built: tuple[Path, Manifest], request: pytest.FixtureRequest
) -> None:
    out, manifest = built
    actual = _built_text(out, manifest, name)
    golden = GOLDEN_DIR / f"{name}.json"
    if request.config.getoption("--update-golden"):
        golden.write_text(actual)
    assert golden.is_file(), f"no golden file {golden}; run with --update-golden"
    assert actual == golden.read_text(), (
        f"{name}: template differs from {golden}; if intended, rerun with --update-golden "
        "and review the diff"
    )
