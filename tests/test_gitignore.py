"""The environments and the cache stay out of commits also when they are symlinks, as the local
pipeline's checkouts and the tests' repository copies link them in: committed, a later checkout
of another commit deletes the links, and every build then installs its environments anew."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.repository_copy import LINKED

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("as_symlink", [True, False])
def test_environments_and_cache_are_ignored(tmp_path: Path, as_symlink: bool) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    shutil.copy(REPO / ".gitignore", tmp_path / ".gitignore")
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "file").write_text("x")
    for name in LINKED:
        if as_symlink:
            (tmp_path / name).symlink_to(target, target_is_directory=True)
        else:
            shutil.copytree(target, tmp_path / name)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sorted(status.splitlines()) == ["?? .gitignore", "?? elsewhere/file"]
