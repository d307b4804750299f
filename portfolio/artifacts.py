"""The files under dist/ checked against the manifest before anything is published.

The manifest's content hash is the sha256 of the product's template, and the template names
every package it launches by a key that carries the package's sha256. So one chain covers every
artifact: the template must hash to the content hash (its key saying so is not enough: a key is
easy to make consistent with an edited file), and each package must hash to its key and be a key
the template names. Each file is read and hashed once, however many products share it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from catalog.errors import BuildOutputError
from catalog.manifest import ProductArtifact

_HASH_IN_KEY = re.compile(r"([0-9a-f]{64})\.(json|zip)$")
REBUILD = "run `python build.py build`"


class ArtifactMismatchError(BuildOutputError):
    """A file under dist/ is not what the manifest says was built."""


@dataclass(frozen=True)
class Artifact:
    """One file of the build and the S3 key it is published under."""

    key: str
    path: Path


@dataclass(frozen=True)
class ProductArtifacts:
    template: Artifact
    package: Artifact
    platform_packages: tuple[Artifact, ...]


@dataclass
class ArtifactChecker:
    """Checks the artifacts of every product of one build; remembers each file's sha256."""

    dist_dir: Path
    _hashes: dict[Path, str] = field(default_factory=dict, init=False)

    def check(self, name: str, entry: ProductArtifact) -> ProductArtifacts:
        where = f"manifest products.{name}"
        template, text = self._template(where, entry)
        packages = [(entry.package, entry.package_key, f"{where}.package")] + [
            (path, key, f"{where}.platform_packages")
            for key, path in entry.platform_packages.items()
        ]
        checked = [self._package(path, key, at, text) for path, key, at in sorted(packages)]
        return ProductArtifacts(
            template=template,
            package=next(a for a in checked if a.key == entry.package_key),
            platform_packages=tuple(
                sorted((a for a in checked if a.key in entry.platform_packages), key=_by_key)
            ),
        )

    def _template(self, where: str, entry: ProductArtifact) -> tuple[Artifact, str]:
        """The template and its text: read once, both hashed and searched for package keys."""
        path = self._existing(f"{where}.template", entry.template)
        expected = entry.content_hash
        body = path.read_bytes()
        self._hashes[path] = hashlib.sha256(body).hexdigest()
        self._require_hash(path, expected, f"the manifest's content hash of {entry.version}")
        recorded = entry.version_history.get(entry.version, expected)
        if recorded != expected:
            raise ArtifactMismatchError(
                f"{where}: version {entry.version} is recorded with content hash {recorded}, the "
                f"manifest says {expected}; dist/ was changed after the build, {REBUILD}"
            )
        self._require_key_hash(f"{where}.template_key", entry.template_key, expected)
        return Artifact(entry.template_key, path), body.decode("utf-8", errors="replace")

    def _package(self, relative: str, key: str, where: str, template_text: str) -> Artifact:
        path = self._existing(where, relative)
        expected = self._require_key_hash(f"{where} key", key, None)
        self._require_hash(path, expected, f"its key {key!r}")
        if key not in template_text:
            raise ArtifactMismatchError(
                f"{where}: key {key!r} is not a package the template launches; the manifest "
                f"was changed after the build, {REBUILD}"
            )
        return Artifact(key, path)

    def _existing(self, where: str, relative: str) -> Path:
        path = self.dist_dir / relative
        if not path.is_file():
            raise BuildOutputError(f"{where}: {str(path)!r} does not exist; {REBUILD}")
        return path

    def _require_key_hash(self, where: str, key: str, expected: str | None) -> str:
        match = _HASH_IN_KEY.search(key)
        if match is None:
            raise BuildOutputError(f"{where}: {key!r} is not content-addressed")
        if expected is not None and match.group(1) != expected:
            raise ArtifactMismatchError(
                f"{where}: {key!r} does not carry the content hash {expected}; the manifest "
                f"was changed after the build, {REBUILD}"
            )
        return match.group(1)

    def _require_hash(self, path: Path, expected: str, source: str) -> None:
        actual = self._sha256(path)
        if actual != expected:
            raise ArtifactMismatchError(
                f"{path}: sha256 is {actual}, expected {expected} ({source}); dist/ was "
                f"changed after the build, {REBUILD}"
            )

    def _sha256(self, path: Path) -> str:
        if path not in self._hashes:
            self._hashes[path] = _file_sha256(path)
        return self._hashes[path]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _by_key(artifact: Artifact) -> str:
    return artifact.key
