"""The launch preview's decision: show the plan, then run it, not (--dry-run), or ask (prod)."""

from __future__ import annotations

import sys

import click

from portfolio.errors import PublishError
from portfolio.launch_plan import LaunchCancelledError, LaunchPreview, Review

# A launch into these changes what on-call people rely on: it asks first, unless --yes.
CONFIRMED_ENVIRONMENTS = frozenset({"prod"})


def on_terminal() -> bool:
    return sys.stdin.isatty()


def refuse_unattended(tool: str, environment: str, *, yes: bool, dry_run: bool) -> None:
    """Before any AWS call: a prod launch nobody can confirm is refused, not run unasked."""
    if environment in CONFIRMED_ENVIRONMENTS and not (yes or dry_run or on_terminal()):
        raise PublishError(
            f"launch {tool} --env {environment} changes {environment} and needs a confirmation: "
            "not on a terminal, so pass --yes (or --dry-run to only see the changes); "
            "nothing changed"
        )


def launch_review(environment: str, *, yes: bool, dry_run: bool) -> Review:
    """Show the plan; then run it, or not (--dry-run), or ask first (prod without --yes)."""

    def review(preview: LaunchPreview) -> bool:
        for line in preview.lines():
            click.echo(line)
        if dry_run:
            click.echo(f"{preview.provisioned_product}: dry run, nothing changed (plan deleted)")
            return False
        if environment not in CONFIRMED_ENVIRONMENTS or yes:
            return True
        if not click.confirm(f"Apply these changes to {environment}?", default=False):
            raise LaunchCancelledError(
                f"launch of {preview.provisioned_product} cancelled; nothing changed"
            )
        return True

    return review
