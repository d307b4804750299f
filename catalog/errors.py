"""The error base types of the catalog. The CLI turns any CatalogError into one line and exit 1.

Each area derives its own errors from these: products/errors.py (build, versions, lint),
portfolio/errors.py (publish, launch), localcloud/errors.py.
"""


class CatalogError(Exception):
    """Base of every error the catalog raises on purpose."""


class ConfigError(CatalogError):
    """The catalog configuration file is missing or invalid."""


class BuildOutputError(CatalogError):
    """dist/ (the build output) is missing, incomplete or does not match its manifest."""
