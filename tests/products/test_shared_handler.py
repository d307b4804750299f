"""Two products built from one handler folder share one package, and the build succeeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from products.packaging import ROOT

# A real build in a child interpreter: the extra product class exists only there, so no other
# test's product discovery ever sees it.
BUILD_WITH_A_SECOND_LOG_PROCESSOR = """
import sys
from dataclasses import replace
from pathlib import Path

import products.tools
from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import load_config
from products.build import build_all
from products.tools.log_processor import LogProcessor


class SecondLogProcessor(LogProcessor):
    name = "log-processor-second"


SecondLogProcessor.__module__ = "products.tools.second_log_processor"
config = load_config(DEFAULT_CONFIG)
products = dict(config.products)
products["log-processor-second"] = dict(products["log-processor"])
build_all(replace(config, products=products), Path(sys.argv[1]), check_versions=False)
"""


def test_products_sharing_a_handler_folder_build(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-c", BUILD_WITH_A_SECOND_LOG_PROCESSOR, str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())["products"]
    first, second = manifest["log-processor"], manifest["log-processor-second"]
    assert first["package"] == second["package"]
    assert (out / first["package"]).is_file()
    assert (out / "templates" / "log-processor-second.json").is_file()
