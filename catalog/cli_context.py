"""The object every build.py command receives as click's ctx.obj."""

from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "catalog.yaml"
DEFAULT_DIST = Path(__file__).resolve().parent.parent / "dist"


@dataclass(frozen=True)
class CliContext:
    config_path: Path
    verbose: bool = False
    dist_dir: Path = DEFAULT_DIST
