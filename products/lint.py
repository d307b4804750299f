"""cfn-lint (in-process) and checkov over the built templates.

checkov lives in its own virtual environment (.venv-checkov) because its dependency pins clash
with the project's; the README's install command creates it from requirements-checkov.txt.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from products.errors import LintError
from products.lint_cache import CleanLintCache

ROOT = Path(__file__).resolve().parent.parent
CHECKOV_CANDIDATES = (ROOT / ".venv-checkov" / "bin" / "checkov",)
CLEAN_LINT_CACHE = ROOT / ".cache" / "lint"


def templates_in(dist_dir: Path) -> list[Path]:
    templates = sorted((dist_dir / "templates").glob("*.json")) + sorted(
        (dist_dir / "infra").glob("*.json")
    )
    if not templates:
        raise LintError(f"no templates under {dist_dir}; run `python build.py build` first")
    return templates


def run_cfn_lint(templates: list[Path], regions: list[str]) -> list[str]:
    """Every cfn-lint match, checked for each of REGIONS, as 'file:line: rule message'."""
    from cfnlint.api import ManualArgs, lint

    # lint_all would check every region AWS has: minutes per template for nothing we publish to.
    config = ManualArgs(regions=regions)
    findings = []
    for template in templates:
        for match in lint(template.read_text(encoding="utf-8"), config=config):
            line = match.linenumber
            findings.append(f"{template.name}:{line}: {match.rule.id} {match.message}")
    return findings


def checkov_executable() -> Path:
    for candidate in CHECKOV_CANDIDATES:
        if candidate.is_file():
            return candidate
    found = shutil.which("checkov")
    if found:
        return Path(found)
    raise LintError(
        "checkov is not installed; create its environment with "
        "`python3 -m venv .venv-checkov && "
        ".venv-checkov/bin/pip install -r requirements-checkov.txt`"
    )


def run_checkov(dist_dir: Path) -> list[str]:
    """Every failed checkov check over the templates in DIST_DIR, as 'file resource: check'."""
    return run_checkov_on(templates_by_name(dist_dir))


def templates_by_name(dist_dir: Path) -> dict[str, Path]:
    """The templates keyed by their dist-relative names, as findings name them."""
    return {
        template.relative_to(dist_dir).as_posix(): template for template in templates_in(dist_dir)
    }


def run_checkov_on(templates: dict[str, Path]) -> list[str]:
    """checkov over TEMPLATES (dist-relative name: file), copied to a folder of our choosing.

    checkov hands each environment-variable map to CKV_AWS_45 with the template's absolute path
    under the key `__file__`, and the check's "AWS secret access key" pattern is any run of
    exactly 40 characters of [A-Za-z0-9/+=]: a path such as
    /tmp/pipeline-run-pnd925_s/BuildAndTest/src/dist/templates/health-checker.json holds one
    ("s/BuildAndTest/src/dist/templates/health"), so whether a template failed depended on the
    random name of the folder it was built in. Under SCRATCH/checkov.in the run after the dot is
    "in/templates/<name>", far from 40.
    """
    with tempfile.TemporaryDirectory(prefix="oncall-lint-") as scratch:
        root = Path(scratch) / "checkov.in"
        for name, path in templates.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, root / name)
        return _checkov(root)


def _checkov(directory: Path) -> list[str]:
    command = [
        str(checkov_executable()),
        "--directory",
        str(directory),
        "--framework",
        "cloudformation",
        "--output",
        "json",
        "--quiet",
        "--compact",
        "--skip-download",
    ]
    # No network here (and none needed): keep checkov from phoning its platform.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_GUIDE": "TRUE"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    return _failed_checks(result)


def _failed_checks(result: subprocess.CompletedProcess[str]) -> list[str]:
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise LintError(f"checkov did not produce a report: {tail[0]}") from error
    reports = report if isinstance(report, list) else [report]
    findings = []
    for single in reports:
        for check in single.get("results", {}).get("failed_checks", []):
            findings.append(
                f"{check['file_path'].lstrip('/')} {check['resource']}: "
                f"{check['check_id']} {check['check_name']}{_evaluated(check)}"
            )
    return findings


def _evaluated(check: dict[str, object]) -> str:
    """What the check looked at (e.g. Properties/Environment/Variables/NAME): a finding must be
    traceable to the value, also when it shows up only once in a while."""
    result = check.get("check_result")
    keys = result.get("evaluated_keys") if isinstance(result, dict) else None
    return f" [{', '.join(map(str, keys))}]" if keys else ""


@dataclass
class LintReport:
    templates: int
    cfn_lint: list[str]
    checkov: list[str] | None  # None: not run (--skip-checkov)
    # Templates each linter passed before with the same content, version and settings.
    cfn_lint_remembered: int = 0
    checkov_remembered: int = 0


def lint_dist(
    dist_dir: Path, regions: list[str], skip_checkov: bool, cache_folder: Path | None
) -> LintReport:
    """cfn-lint and checkov over dist/, skipping what CACHE_FOLDER remembers as clean."""
    templates = templates_by_name(dist_dir)
    cfn_cache = _cache(cache_folder, "cfn-lint", _cfn_lint_settings(regions))
    cfn_todo = _not_remembered(templates, cfn_cache)
    findings = run_cfn_lint(list(cfn_todo.values()), regions) if cfn_todo else []
    _remember_clean(cfn_todo, findings, cfn_cache, lambda name: Path(name).name + ":")
    report = LintReport(len(templates), findings, None, len(templates) - len(cfn_todo))
    if skip_checkov:
        return report
    checkov_cache = _cache(cache_folder, "checkov", _checkov_settings(checkov_executable()))
    checkov_todo = _not_remembered(templates, checkov_cache)
    report.checkov = run_checkov_on(checkov_todo) if checkov_todo else []
    _remember_clean(checkov_todo, report.checkov, checkov_cache, lambda name: name + " ")
    report.checkov_remembered = len(templates) - len(checkov_todo)
    return report


def _cache(folder: Path | None, linter: str, settings: str | None) -> CleanLintCache | None:
    if folder is None or settings is None:
        return None
    return CleanLintCache(folder, linter, settings)


def _not_remembered(templates: dict[str, Path], cache: CleanLintCache | None) -> dict[str, Path]:
    if cache is None:
        return dict(templates)
    return {name: path for name, path in templates.items() if not cache.passed(path, name)}


def _remember_clean(
    linted: dict[str, Path],
    findings: list[str],
    cache: CleanLintCache | None,
    finding_prefix: Callable[[str], str],
) -> None:
    """Record every linted template that no finding names; nothing when a finding names none
    of them (then which template it belongs to is unknown)."""
    if cache is None:
        return
    prefixes = {name: finding_prefix(name) for name in linted}
    owners = [{name for name, prefix in prefixes.items() if f.startswith(prefix)} for f in findings]
    if not all(owners):
        return
    named = set().union(*owners)
    for name, path in linted.items():
        if name not in named:
            cache.record_pass(path, name)


def _cfn_lint_settings(regions: list[str]) -> str:
    return f"cfn-lint {importlib.metadata.version('cfn-lint')} regions {','.join(regions)}"


def _checkov_settings(executable: Path) -> str | None:
    """checkov's installed version, read from its environment (None: unknown, nothing cached)."""
    environment = executable.resolve().parent.parent
    installed = sorted(environment.glob("lib/python*/site-packages/checkov-*.dist-info"))
    return f"checkov {installed[-1].name}" if installed else None
