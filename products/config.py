"""Moved to catalog.config. This re-export serves only modules being edited on other branches
(products/builder.py, launch_role.py, infra.py); remove it once they import catalog.config."""

from catalog.config import CatalogConfig, load_config

__all__ = ["CatalogConfig", "load_config"]
