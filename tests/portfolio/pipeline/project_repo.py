"""A local git repository holding this project, for runs of the real pipeline: its
environments in three accounts, commits merged on main, a local run of a commit."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalog.config import load_config
from portfolio.aws import AwsClients, Target
from portfolio.pipeline.local_accounts import as_account_admin
from portfolio.pipeline.local_run import (
    LocalRun,
    PipelineResult,
    link_local_environments,
    run_pipeline,
)

REPO = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
# The test suite inside BuildAndTest, narrowed for these tests only: PYTEST_ADDOPTS, a project
# variable of the local run, adds paths, so pytest runs these instead of its testpaths. The
# real pipeline sets no such variable and runs the whole suite.
QUICK_TESTS = "tests/products/test_versions.py"


def git(repository: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-c", "user.name=Pipeline Test", "-c", "user.email=ci@example.com", *args],
        cwd=repository,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def in_three_accounts(text: str) -> str:
    """catalog.yaml with environments.<env>.account set to ACCOUNTS for dev, staging and prod
    (replacing the accounts the shipped file names, or adding them)."""
    for environment, account in ACCOUNTS.items():
        text = re.sub(
            rf"^  {environment}:\n(    account: .*\n)?",
            f'  {environment}:\n    account: "{account}"\n',
            text,
            count=1,
            flags=re.MULTILINE,
        )
    return text


def project_copy(where: Path) -> Path:
    """This project at HEAD in a repository of its own, on main, environments in 3 accounts."""
    git(where.parent, "clone", "--quiet", "--shared", str(REPO), str(where))
    git(where, "checkout", "--quiet", "-B", "main")
    link_local_environments(REPO, where)
    config = where / "catalog.yaml"
    config.write_text(in_three_accounts(config.read_text()))
    if git(where, "diff", "--name-only"):  # the shipped accounts may already be these
        git(where, "commit", "--quiet", "-am", "environments in their own accounts")
    return where


def merge_on_main(repository: Path, branch: str, change: Callable[[Path], None]) -> str:
    """A branch with CHANGE, merged into main (--no-ff, as a pull request is); the merge."""
    git(repository, "checkout", "--quiet", "-b", branch, "main")
    change(repository)
    git(repository, "add", "-A")
    git(repository, "commit", "--quiet", "-m", f"{branch}: the change")
    git(repository, "checkout", "--quiet", "main")
    git(repository, "merge", "--quiet", "--no-ff", branch, "-m", f"Merge branch '{branch}'")
    return git(repository, "rev-parse", "HEAD")


def run_commit(
    repository: Path,
    commit: str,
    endpoint: str,
    work: Path,
    *,
    approve: bool = True,
    tests: str = QUICK_TESTS,
) -> tuple[PipelineResult, list[str]]:
    lines: list[str] = []
    run = LocalRun(
        repository,
        commit,
        endpoint,
        work,
        approval=lambda: approve,
        region=REGION,
        project_variables={"PYTEST_ADDOPTS": tests},
    )
    return run_pipeline(run, lines.append), lines


def account_clients(endpoint: str, account: str) -> Any:
    return as_account_admin(AwsClients(Target(endpoint_url=endpoint)), account, REGION)


def provisioned_in(endpoint: str, account: str) -> list[str]:
    sc = account_clients(endpoint, account).client("servicecatalog", REGION)
    return sorted(p["Name"] for p in sc.scan_provisioned_products()["ProvisionedProducts"])


def config_of(repository: Path) -> Any:
    return load_config(repository / "catalog.yaml")
