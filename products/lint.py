"""cfn-lint (in-process) and checkov over the built templates.

checkov lives in its own virtual environment (.venv-checkov) because its dependency pins clash
with the project's; the README's install command creates it from requirements-checkov.txt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from products.errors import LintError

ROOT = Path(__file__).resolve().parent.parent
CHECKOV_CANDIDATES = (ROOT / ".venv-checkov" / "bin" / "checkov",)


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
    """Every failed checkov check as 'file resource: check id name'."""
    command = [
        str(checkov_executable()),
        "--directory",
        str(dist_dir),
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
