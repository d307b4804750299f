"""Errors raised by localcloud itself (not the AWS-style errors it serves to clients)."""

from catalog.errors import CatalogError


class LocalCloudError(CatalogError):
    """The local cloud could not start, or was used in a way it does not support."""
