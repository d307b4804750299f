"""Error types of the catalog. The CLI turns any CatalogError into one line and exit code 1."""


class CatalogError(Exception):
    """Base of every error the catalog raises on purpose."""


class ConfigError(CatalogError):
    """The catalog configuration file is missing or invalid."""


class BuildError(CatalogError):
    """A product template or package could not be built."""


class VersionError(CatalogError):
    """A product's content changed without a version bump, or a version string is invalid."""


class LintError(CatalogError):
    """cfn-lint or checkov reported findings."""
