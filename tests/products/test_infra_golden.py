"""The pipeline and spoke stacks are pinned in tests/products/golden/ like the products.

Regenerate after an intended change with:
    .venv/bin/python -m pytest tests/products/test_infra_golden.py --update-golden
and review the diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from products.build import Manifest

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", ["pipeline", "spoke"])
def test_infra_template_matches_golden(
    name: str, built: tuple[Path, Manifest], request: pytest.FixtureRequest
) -> None:
    out, manifest = built
    actual = (out / manifest.infra[name]).read_text()
    golden = GOLDEN_DIR / f"{name}.json"
    if request.config.getoption("--update-golden"):
        golden.write_text(actual)
    assert golden.is_file(), f"no golden file {golden}; run with --update-golden"
    assert actual == golden.read_text(), (
        f"{name}: template differs from {golden}; if intended, rerun with --update-golden "
        "and review the diff"
    )
