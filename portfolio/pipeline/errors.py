"""Errors of the pipeline. All are CatalogErrors: the CLI prints them as one line, exit 1."""

from portfolio.errors import PublishError


class PipelineError(PublishError):
    """A pipeline run or one of its stages failed."""
