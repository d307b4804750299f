"""build, lint and bump: the commands that turn the source tree into products."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import click

from catalog.cli_context import CliContext
from catalog.config import load_config
from products.errors import VersionError
from products.release_notes import changelog_path, checked_note
from products.versions import Part, record_bump


@click.command()
@click.option(
    "--product",
    "products",
    multiple=True,
    metavar="NAME",
    help="Build only this product (repeatable). Default: every product.",
)
@click.pass_obj
def build(obj: CliContext, products: tuple[str, ...]) -> None:
    """Write product templates, handler packages, the bootstrap template and dist/manifest.json.

    Building is pure: no AWS calls, and the same source gives the same bytes. It fails if a
    product's content changed while its recorded version did not (see `bump`).
    """
    from products.build import build_all

    config = load_config(obj.config_path)
    manifest = build_all(config, obj.dist_dir, list(products) or None, progress=_progress)
    for name, artifact in manifest.products.items():
        click.echo(
            f"{name:16} {artifact.version:9} {artifact.content_hash[:12]}  "
            f"{artifact.template}  {artifact.package}"
        )
    click.echo(f"wrote {obj.dist_dir / 'manifest.json'}")


@click.command()
@click.option("--skip-checkov", is_flag=True, help="Run cfn-lint only.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Lint every template, also those that passed before unchanged (.cache/lint).",
)
@click.pass_obj
def lint(obj: CliContext, skip_checkov: bool, no_cache: bool) -> None:
    """Run cfn-lint (in-process) and checkov over everything in dist/; fail on any finding.

    Run `build` first. checkov runs from its own virtual environment (.venv-checkov, created by
    the README's install command) because its pins clash with the project's. A template that a
    linter passed before, with the same content, linter version and settings, is not linted
    again (the clean results are kept in .cache/lint; findings never are).
    """
    from products.lint import CLEAN_LINT_CACHE, lint_dist

    config = load_config(obj.config_path)
    cache = None if no_cache else CLEAN_LINT_CACHE
    report = lint_dist(obj.dist_dir, config.portfolio["regions"], skip_checkov, cache)
    click.echo(f"cfn-lint: {report.templates} template(s), {len(report.cfn_lint)} finding(s)")
    findings = list(report.cfn_lint)
    if report.checkov is not None:
        click.echo(f"checkov: {len(report.checkov)} failed check(s)")
        findings += report.checkov
    if report.cfn_lint_remembered or report.checkov_remembered:
        click.echo(
            "passed before unchanged, not linted again (--no-cache lints them): "
            f"cfn-lint {report.cfn_lint_remembered}, checkov {report.checkov_remembered}"
        )
    for finding in findings:
        click.echo(f"  {finding}", err=True)
    if findings:
        from products.errors import LintError

        raise LintError(f"{len(findings)} lint finding(s) in {obj.dist_dir}")


@click.command(name="bump")
@click.argument("product")
@click.option("--major", "part", flag_value="major", help="Incompatible change.")
@click.option("--minor", "part", flag_value="minor", help="New feature, compatible.")
@click.option("--patch", "part", flag_value="patch", default=True, help="Fix (the default).")
@click.option(
    "--note",
    metavar="TEXT",
    help="What changed, one line: the version's release note (asked for on a terminal).",
)
@click.pass_obj
def bump_command(obj: CliContext, product: str, part: Part, note: str | None) -> None:
    """Record a new version of PRODUCT for its current content in products/versions.json,
    and its release note in products/changelogs/PRODUCT/CHANGELOG.md.

    A product without a recorded version starts at 1.0.0. Commit both files with the change.
    """
    from products.build import content_hashes

    line = checked_note(product, _release_note(product, note))
    config = load_config(obj.config_path)
    with tempfile.TemporaryDirectory() as scratch:
        content_hash = content_hashes(config, Path(scratch), [product])[product]
    record = record_bump(product, content_hash, part, line, today=dt.datetime.now(dt.UTC).date())
    click.echo(f"{product}: version {record.version} for content {content_hash[:12]}")
    click.echo(f"{product}: release note in {changelog_path(product)}")


def _release_note(product: str, given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise VersionError(
            f'{product}: a version needs a release note; pass --note "what changed" (one line)'
        )
    return str(
        click.prompt(f"Release note for {product} (one line)", default="", show_default=False)
    )


def _progress(message: str) -> None:
    click.echo(f"... {message}", err=True)


COMMANDS: list[click.Command] = [build, lint, bump_command]
