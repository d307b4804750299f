"""Errors of the build side. All are CatalogErrors: the CLI prints them as one line, exit 1."""

from catalog.errors import CatalogError


class BuildError(CatalogError):
    """A product template or package could not be built."""


class VersionError(CatalogError):
    """A product's content changed without a version bump, or a version string is invalid."""


class LintError(CatalogError):
    """cfn-lint or checkov reported findings."""


class InstanceNameError(CatalogError):
    """An instance name (launch --instance) is not valid or does not fit the resource names."""
