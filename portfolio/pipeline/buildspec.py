"""A CodeBuild buildspec (version 0.2), read and checked as CodeBuild checks it before a build.

CodeBuild rejects a bad buildspec in its DOWNLOAD_SOURCE phase with the status code
YAML_FILE_ERROR; our errors carry the same code and, where AWS's wording is known, its message
("Invalid buildspec phase name: artifacts. Expecting: build,install,post_build,pre_build").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from portfolio.pipeline.errors import PipelineError

PHASES = ("install", "pre_build", "build", "post_build")
ON_FAILURE = ("ABORT", "CONTINUE")
SUPPORTED_VERSION = "0.2"
# Keys CodeBuild knows. The ones in _IGNORED change nothing a local run can observe.
_TOP_LEVEL = {
    "version",
    "run-as",
    "env",
    "proxy",
    "batch",
    "phases",
    "artifacts",
    "reports",
    "cache",
}
_IGNORED_TOP_LEVEL = {"run-as", "proxy", "cache"}
_ENV_KEYS = {
    "shell",
    "variables",
    "parameter-store",
    "secrets-manager",
    "exported-variables",
    "git-credential-helper",
}
_PHASE_KEYS = {"run-as", "on-failure", "runtime-versions", "commands", "finally"}
_ARTIFACT_KEYS = {
    "files",
    "name",
    "discard-paths",
    "base-directory",
    "exclude-paths",
    "enable-symlinks",
    "s3-prefix",
    "secondary-artifacts",
}
_REPORT_KEYS = {"files", "base-directory", "discard-paths", "file-format"}


class BuildspecError(PipelineError):
    """CodeBuild would refuse this buildspec (YAML_FILE_ERROR) before running any command."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path.name}: YAML_FILE_ERROR: {message}")


@dataclass(frozen=True)
class Phase:
    name: str
    commands: tuple[str, ...]
    finally_commands: tuple[str, ...] = ()
    on_failure: str | None = None  # None: the phase-transition table decides


@dataclass(frozen=True)
class ArtifactSpec:
    files: tuple[str, ...]
    base_directory: str = ""
    name: str | None = None
    discard_paths: bool = False
    exclude_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportGroup:
    name: str
    files: tuple[str, ...]
    base_directory: str = ""
    file_format: str = "JUNITXML"


@dataclass(frozen=True)
class Buildspec:
    path: Path
    variables: dict[str, str] = field(default_factory=dict)
    exported_variables: tuple[str, ...] = ()
    phases: tuple[Phase, ...] = ()
    artifacts: ArtifactSpec | None = None
    reports: tuple[ReportGroup, ...] = ()


def load_buildspec(path: Path) -> Buildspec:
    if not path.is_file():
        raise BuildspecError(path, "YAML file does not exist")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise BuildspecError(path, str(error).replace("\n", " ")) from error
    if not isinstance(document, dict):
        raise BuildspecError(path, "the buildspec is not a mapping")
    return parse_buildspec(path, document)


def parse_buildspec(path: Path, document: dict[str, Any]) -> Buildspec:
    _check_keys(path, document, _TOP_LEVEL, "buildspec")
    _check_version(path, document.get("version"))
    if "batch" in document:
        raise BuildspecError(path, "batch builds are not supported by the local runner")
    env = _mapping(path, document.get("env"), "env")
    _check_keys(path, env, _ENV_KEYS, "env")
    for secret_source in ("parameter-store", "secrets-manager"):
        if secret_source in env:
            raise BuildspecError(path, f"env/{secret_source} is not supported by the local runner")
    return Buildspec(
        path=path,
        variables=_variables(path, env.get("variables")),
        exported_variables=_strings(path, env.get("exported-variables"), "env/exported-variables"),
        phases=_phases(path, document.get("phases")),
        artifacts=_artifacts(path, document.get("artifacts")),
        reports=_reports(path, document.get("reports")),
    )


def _check_version(path: Path, version: object) -> None:
    if version is None:
        raise BuildspecError(path, "Missing buildspec version. Expecting: 0.2")
    if str(version) != SUPPORTED_VERSION:
        # 0.1 ran each command in its own shell; nothing here is written for it.
        raise BuildspecError(path, f"Invalid buildspec version: {version}. Expecting: 0.2")


def _check_keys(path: Path, block: dict[str, Any], known: set[str], where: str) -> None:
    for key in block:
        if key not in known:
            raise BuildspecError(path, f'unsupported field "{key}" in {where}')


def _mapping(path: Path, value: object, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BuildspecError(path, f"{where} must be a mapping, found {type(value).__name__}")
    return value


def _strings(path: Path, value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BuildspecError(path, f"{where} must be a sequence")
    for index, item in enumerate(value):
        if not isinstance(item, str | int | float):
            raise BuildspecError(
                path, f"Expected {where}[{index}] to be of string type: found subkeys instead"
            )
    return tuple(_scalar_text(item) for item in value)


def _scalar_text(item: str | float) -> str:
    # CodeBuild reads every command as a string: `- true` is the command true, not a boolean.
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def _variables(path: Path, value: object) -> dict[str, str]:
    variables = _mapping(path, value, "env/variables")
    return {str(key): "" if item is None else str(item) for key, item in variables.items()}


def _phases(path: Path, value: object) -> tuple[Phase, ...]:
    phases = _mapping(path, value, "phases")
    for name in phases:
        if name not in PHASES:
            raise BuildspecError(
                path,
                f"Invalid buildspec phase name: {name}. Expecting: {','.join(sorted(PHASES))}",
            )
    return tuple(_phase(path, name, phases[name]) for name in PHASES if name in phases)


def _phase(path: Path, name: str, value: object) -> Phase:
    block = _mapping(path, value, f"phases/{name}")
    _check_keys(path, block, _PHASE_KEYS, f"phases/{name}")
    on_failure = block.get("on-failure")
    if on_failure is not None and on_failure not in ON_FAILURE:
        raise BuildspecError(
            path,
            f"phases/{name}/on-failure: {on_failure} is not supported by the local runner "
            f"(expecting one of {', '.join(ON_FAILURE)})",
        )
    return Phase(
        name=name,
        commands=_strings(path, block.get("commands"), f"phases/{name}/commands"),
        finally_commands=_strings(path, block.get("finally"), f"phases/{name}/finally"),
        on_failure=on_failure,
    )


def _artifacts(path: Path, value: object) -> ArtifactSpec | None:
    if value is None:
        return None
    block = _mapping(path, value, "artifacts")
    _check_keys(path, block, _ARTIFACT_KEYS, "artifacts")
    files = _strings(path, block.get("files"), "artifacts/files")
    if not files:
        raise BuildspecError(path, "artifacts/files is required when artifacts is given")
    return ArtifactSpec(
        files=files,
        base_directory=str(block.get("base-directory") or ""),
        name=None if block.get("name") is None else str(block["name"]),
        discard_paths=_yes(block.get("discard-paths")),
        exclude_paths=_strings(path, block.get("exclude-paths"), "artifacts/exclude-paths"),
    )


def _reports(path: Path, value: object) -> tuple[ReportGroup, ...]:
    groups = _mapping(path, value, "reports")
    return tuple(_report(path, str(name), groups[name]) for name in groups)


def _report(path: Path, name: str, value: object) -> ReportGroup:
    block = _mapping(path, value, f"reports/{name}")
    _check_keys(path, block, _REPORT_KEYS, f"reports/{name}")
    file_format = str(block.get("file-format") or "JUNITXML")
    if file_format != "JUNITXML":
        raise BuildspecError(
            path, f"reports/{name}/file-format: {file_format} is not supported locally (JUNITXML)"
        )
    return ReportGroup(
        name=name,
        files=_strings(path, block.get("files"), f"reports/{name}/files"),
        base_directory=str(block.get("base-directory") or ""),
        file_format=file_format,
    )


def _yes(value: object) -> bool:
    # YAML 1.1 reads a bare yes as True; CodeBuild documents "yes" / "no".
    return value is True or str(value).lower() == "yes"
