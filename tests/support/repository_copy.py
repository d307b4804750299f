"""A throwaway copy of this repository, as a clean checkout would hold it.

The copy holds the tracked files (git ls-files, as they are in the work tree, so a test sees the
change being made before it is committed) in a git repository of its own with one commit, and
links the virtualenvs and the dependency cache in (installing them again would test pip, not the
project).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from portfolio.pipeline.local_run import link_local_environments

REPO = Path(__file__).resolve().parents[2]
# Shared with the repository rather than copied: environments, and the content-keyed cache of
# installed Lambda dependencies (products/packaging.py writes it atomically).
LINKED = (".venv", ".venv-checkov", ".cache")
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]


def copy_repository(copy: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if source.is_file():
            (copy / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / relative, follow_symlinks=False)
    link_local_environments(REPO, copy)
    _git(copy, "init", "-q", "-b", "main")
    (copy / ".git" / "info" / "exclude").write_text("".join(f"/{n}\n" for n in LINKED))
    _git(copy, "add", "-A")
    _git(copy, "commit", "-q", "-m", "the repository as it was")
    return copy


def _git(where: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=where, capture_output=True, text=True, check=True)
