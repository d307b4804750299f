"""Clean lint results remembered by content: a template that a linter passed is not linted again
until the template, the linter's version or its settings change.

A lint of the seven templates takes about 20 s (cfn-lint 10 s, checkov 10 s); the release
pipeline, the training labs and the tests lint the same unchanged templates many times. Only a
clean result is remembered: a finding is always looked for again, so a linter that reports
something once in a while cannot keep failing a template from the cache. The entries live in
.cache/lint (linked into the pipeline's and the tests' checkouts, so they share it); CodeBuild
starts without one and lints everything.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from products.errors import LintError


class CleanLintCache:
    """Which templates LINTER (with SETTINGS: its version, regions, ...) passed before."""

    def __init__(self, folder: Path, linter: str, settings: str) -> None:
        self.folder = folder
        self._salt = f"{linter}\n{settings}\n".encode()

    def key(self, template: Path, name: str) -> str:
        """NAME is the template as findings name it (dist-relative), part of what was linted."""
        digest = hashlib.sha256(self._salt)
        digest.update(name.encode() + b"\n")
        digest.update(template.read_bytes())
        return digest.hexdigest()

    def passed(self, template: Path, name: str) -> bool:
        return (self.folder / self.key(template, name)).is_file()

    def record_pass(self, template: Path, name: str) -> None:
        """Atomically: two lints at once may record the same template."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, scratch = tempfile.mkstemp(dir=self.folder, prefix=".pass-")
            os.close(handle)
            Path(scratch).replace(self.folder / self.key(template, name))
        except OSError as error:
            raise LintError(f"cannot write the lint cache {self.folder}: {error}") from error
