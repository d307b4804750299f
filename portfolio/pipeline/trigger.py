"""What starts a pipeline execution: a new commit on the watched branch (the pipeline stack's
trigger is a push to the branch; locally, a merge or commit on it in the repository)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from portfolio.pipeline.errors import PipelineError


class BranchTrigger:
    """Remembers the branch's head; `new_commit()` answers the head once it has moved."""

    def __init__(self, repository: Path, branch: str = "main") -> None:
        self.repository = repository
        self.branch = branch
        self.seen = self._head()

    def _head(self) -> str:
        completed = subprocess.run(  # noqa: S603 - git with our own arguments
            ["git", "rev-parse", "--verify", f"refs/heads/{self.branch}"],  # noqa: S607
            cwd=self.repository,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise PipelineError(f"{self.repository}: no branch {self.branch!r} to watch")
        return completed.stdout.strip()

    def new_commit(self) -> str | None:
        head = self._head()
        if head == self.seen:
            return None
        self.seen = head
        return head
