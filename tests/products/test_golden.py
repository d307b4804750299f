"""Each product's template is pinned in tests/products/golden/ and compared exactly; so is the
launch-parameter reference in docs/, which is generated from the templates.

Regenerate after an intended change with:
    .venv/bin/python -m pytest tests/products/test_golden.py --update-golden
and review the diff like code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from products.build import Manifest
from products.reference import launch_parameters_markdown
from products.spec import discover_products

GOLDEN_DIR = Path(__file__).parent / "golden"
LAUNCH_PARAMETERS_DOC = Path(__file__).parents[2] / "docs" / "launch-parameters.md"

# The catalog's own stacks: bootstrap (per region), the release pipeline and the spoke account's.
INFRA_NAMES = ("bootstrap", "pipeline", "spoke")
GOLDEN_NAMES = [*discover_products(), *INFRA_NAMES]


def _built_text(out: Path, manifest: Manifest, name: str) -> str:
    if name in INFRA_NAMES:
        return (out / manifest.infra[name]).read_text()
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


def test_launch_parameter_reference_matches_the_templates(
    templates: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    actual = launch_parameters_markdown(templates)
    if request.config.getoption("--update-golden"):
        LAUNCH_PARAMETERS_DOC.write_text(actual)
    assert actual == LAUNCH_PARAMETERS_DOC.read_text(), (
        f"{LAUNCH_PARAMETERS_DOC} is stale; rerun with --update-golden and review the diff"
    )
