"""Errors of the publish side. All are CatalogErrors: the CLI prints them as one line, exit 1.

A missing or stale build (BuildOutputError) is catalog.errors': the manifest raises it.
"""

from catalog.errors import CatalogError, ConfigError


class PublishError(CatalogError):
    """Publishing, reading or launching against Service Catalog failed."""


class PortfolioConfigError(ConfigError):
    """The portfolio section is valid JSON-schema-wise but says something AWS would reject."""


class VersionConflictError(PublishError):
    """Different content would be published under a version name that already exists."""


class TargetError(PublishError):
    """No usable AWS target: no credentials, bad profile, unreachable endpoint."""


class AwsCallError(PublishError):
    """An AWS call failed in a way a rerun will not fix by itself."""


class PollTimeoutError(PublishError):
    """An asynchronous AWS operation did not finish in the time we allow it."""


class StatusCheckError(PublishError):
    """`status --check` found drift or a built version that is not published."""
