"""Errors of the extra CloudFormation resource models (they fail the stack with this message)."""


class ResourcePropertyError(ValueError):
    """A resource's properties are missing or invalid, as CloudFormation would report them."""
