"""Run a buildspec as CodeBuild does: phases in order, one shell instance for the whole build,
`finally` blocks, `on-failure`, the phase-transition table, exported variables, artifacts and
JUnit reports.

CodeBuild's phase transitions (view-build-details-phases): a failure in INSTALL or PRE_BUILD goes
straight to FINALIZING (no later phase, no artifact upload); a failed BUILD still runs
POST_BUILD; UPLOAD_ARTIFACTS is attempted after BUILD and POST_BUILD whether they failed or not.
`on-failure: ABORT` ends the build at the failed phase; `CONTINUE` goes on to the next phase.

"Same shell instance" (buildspec 0.2): each command runs in bash, in the source directory the
previous command left, with every variable the previous commands set (exported or not). We run one
`bash` per command and carry the variables and the working directory across in a state file the
shell writes on exit, which also keeps `exit 1` in a command from ending the build's shell
early. Shell functions are not carried over.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from portfolio.pipeline.buildspec import Buildspec, Phase, ReportGroup

Echo = Callable[[str], None]
_OUTPUT_TAIL_LINES = 20
# Variables bash manages itself: restoring them would fail (readonly) or lie (PWD, SHLVL).
_SHELL_OWNED = (
    "BASH",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
    "PIPESTATUS",
    "SHELLOPTS",
    "EUID",
    "PPID",
    "UID",
    "GROUPS",
    "RANDOM",
    "SECONDS",
    "LINENO",
    "HISTCMD",
    "FUNCNAME",
    "DIRSTACK",
    "SRANDOM",
    "EPOCHSECONDS",
    "EPOCHREALTIME",
    "COLUMNS",
    "LINES",
)
_SAVE_STATE = r"""
__cb_save() {
  for __cb_name in $(compgen -v); do
    case "$__cb_name" in __cb_*|__CB_*|BASH*|%(owned)s) continue ;; esac
    declare -p "$__cb_name" 2>/dev/null | grep -v '^declare -[a-zA-Z]*r' || true
  done > "$__CB_STATE_OUT"
  pwd > "$__CB_CWD_OUT"
}
trap __cb_save EXIT
"""


@dataclass(frozen=True)
class BuildContext:
    """What CodeBuild gives a build: the source, the project's variables and its identity."""

    source_dir: Path
    project: str
    resolved_source_version: str
    initiator: str
    environment: dict[str, str] = field(default_factory=dict)  # the project's, override env
    secondary_sources: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class PhaseResult:
    name: str
    status: str  # SUCCEEDED | FAILED | NOT_RUN
    reason: str = ""


@dataclass(frozen=True)
class ReportResult:
    group: str
    files: tuple[Path, ...]
    tests: int
    failures: tuple[str, ...]  # failed or errored test case names

    def summary(self) -> str:
        return f"{self.group}: {self.tests} test(s), {len(self.failures)} failed"


@dataclass(frozen=True)
class BuildResult:
    build_id: str
    phases: tuple[PhaseResult, ...]
    exported_variables: dict[str, str]
    artifacts_dir: Path | None
    artifact_name: str | None
    reports: tuple[ReportResult, ...]

    @property
    def succeeded(self) -> bool:
        return all(phase.status != "FAILED" for phase in self.phases)

    @property
    def failure(self) -> str:
        """The first failed phase and its reason, as CodeBuild shows it."""
        for phase in self.phases:
            if phase.status == "FAILED":
                return f"{phase.name.upper()}: {phase.reason}"
        return ""


class _Shell:
    """One buildspec's shell session: variables and directory carried from command to command."""

    def __init__(self, context: BuildContext, variables: dict[str, str], work: Path) -> None:
        self.cwd = context.source_dir
        self._state = work / "state.sh"
        self._state.write_text("", encoding="utf-8")
        self._environment = variables

    def run(self, command: str, succeeding: bool, echo: Echo) -> tuple[int, list[str]]:
        state_out = self._state.with_suffix(".out")
        cwd_out = self._state.with_suffix(".cwd")
        script = "\n".join(
            [
                _SAVE_STATE % {"owned": "|".join(_SHELL_OWNED)},
                f"source {shlex.quote(str(self._state))}",
                f"export CODEBUILD_BUILD_SUCCEEDING={1 if succeeding else 0}",
                'eval "$__CB_COMMAND"',
            ]
        )
        environment = {
            **self._environment,
            "__CB_COMMAND": command,
            "__CB_STATE_OUT": str(state_out),
            "__CB_CWD_OUT": str(cwd_out),
        }
        code, tail = _stream(["bash", "-c", script], self.cwd, environment, echo)
        self._keep_state(state_out, cwd_out)
        return code, tail

    def _keep_state(self, state_out: Path, cwd_out: Path) -> None:
        if state_out.exists():
            state_out.replace(self._state)
        if cwd_out.exists():
            directory = Path(cwd_out.read_text(encoding="utf-8").strip())
            if directory.is_dir():
                self.cwd = directory

    def value_of(self, expression: str) -> str:
        """EXPRESSION (shell language, as CodeBuild evaluates an artifact name) in this session."""
        script = f'source {shlex.quote(str(self._state))}\nprintf "%s" "{expression}"'
        completed = subprocess.run(  # noqa: S603 - bash with our own script
            ["bash", "-c", script],  # noqa: S607
            cwd=self.cwd,
            env=self._environment,
            capture_output=True,
            text=True,
            check=False,
        )
        return completed.stdout

    def variable(self, name: str) -> str | None:
        script = (
            f"source {shlex.quote(str(self._state))}\n"
            f'[ -n "${{{name}+set}}" ] && printf "%s" "${name}"'
        )
        completed = subprocess.run(  # noqa: S603
            ["bash", "-c", script],  # noqa: S607
            cwd=self.cwd,
            env=self._environment,
            capture_output=True,
            text=True,
            check=False,
        )
        return completed.stdout if completed.returncode == 0 else None


def _stream(
    argv: list[str], cwd: Path, environment: dict[str, str], echo: Echo
) -> tuple[int, list[str]]:
    """Run ARGV, echoing its combined output line by line; its exit code and last lines."""
    tail: deque[str] = deque(maxlen=_OUTPUT_TAIL_LINES)
    with subprocess.Popen(  # noqa: S603 - bash with our own script
        argv,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line.rstrip("\n"))
            echo(line.rstrip("\n"))
        code = process.wait()
    return code, list(tail)


def run_build(spec: Buildspec, context: BuildContext, output_dir: Path, echo: Echo) -> BuildResult:
    """Run SPEC in CONTEXT's source directory; artifacts are copied under OUTPUT_DIR."""
    build_id = f"{context.project}:{uuid.uuid4()}"
    with tempfile.TemporaryDirectory(prefix="codebuild-") as work:
        shell = _Shell(context, _build_environment(spec, context, build_id), Path(work))
        phases, stopped = _run_phases(spec, shell, echo)
        uploads = not stopped
        artifacts_dir, name = (
            _collect_artifacts(spec, context, shell, output_dir, echo) if uploads else (None, None)
        )
        if uploads and spec.artifacts is not None and artifacts_dir is None:
            phases.append(
                PhaseResult(
                    "upload_artifacts", "FAILED", "CLIENT_ERROR: no matching artifact paths found"
                )
            )
        exported = {
            name_: value
            for name_ in spec.exported_variables
            if (value := shell.variable(name_)) is not None
        }
    reports = tuple(_collect_report(group, context.source_dir) for group in spec.reports)
    for report in reports:
        echo(f"report {report.summary()}")
    return BuildResult(build_id, tuple(phases), exported, artifacts_dir, name, reports)


def _build_environment(spec: Buildspec, context: BuildContext, build_id: str) -> dict[str, str]:
    """The container's variables: buildspec env < project env < CODEBUILD_* (reserved)."""
    region = context.environment.get("AWS_REGION") or os.environ.get("AWS_REGION", "us-east-1")
    codebuild = {
        "CODEBUILD_SRC_DIR": str(context.source_dir),
        "CODEBUILD_RESOLVED_SOURCE_VERSION": context.resolved_source_version,
        "CODEBUILD_SOURCE_VERSION": context.resolved_source_version,
        "CODEBUILD_BUILD_ID": build_id,
        "CODEBUILD_BUILD_ARN": f"arn:aws:codebuild:{region}:000000000000:build/{build_id}",
        "CODEBUILD_BUILD_NUMBER": "1",
        "CODEBUILD_INITIATOR": context.initiator,
        "CODEBUILD_START_TIME": str(int(time.time() * 1000)),
        "CODEBUILD_BUILD_SUCCEEDING": "1",
        **{
            f"CODEBUILD_SRC_DIR_{name}": str(path)
            for name, path in context.secondary_sources.items()
        },
    }
    return {**_container_base(), **spec.variables, **context.environment, **codebuild}


def _container_base() -> dict[str, str]:
    # A build container starts with a small, known environment, not the caller's shell.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TERM")
    return {name: os.environ[name] for name in keep if name in os.environ}


def _run_phases(spec: Buildspec, shell: _Shell, echo: Echo) -> tuple[list[PhaseResult], bool]:
    """Each phase's result, and whether the build stopped early (then nothing is uploaded)."""
    results: list[PhaseResult] = []
    stopped = False
    for phase in spec.phases:
        if stopped:
            results.append(PhaseResult(phase.name, "NOT_RUN"))
            continue
        succeeding = all(result.status != "FAILED" for result in results)
        result = _run_phase(phase, shell, succeeding, echo)
        results.append(result)
        if result.status == "FAILED":
            stopped = _stops_build(phase)
    return results, stopped


def _stops_build(phase: Phase) -> bool:
    if phase.on_failure is not None:
        return phase.on_failure == "ABORT"
    # The transition table: install and pre_build failures finalize; build goes to post_build.
    return phase.name in ("install", "pre_build")


def _run_phase(phase: Phase, shell: _Shell, succeeding: bool, echo: Echo) -> PhaseResult:
    echo(f"Entering phase {phase.name.upper()}")
    reason = _run_commands(phase.commands, shell, succeeding, echo)
    finally_reason = _run_commands(phase.finally_commands, shell, succeeding and not reason, echo)
    reason = reason or finally_reason
    status = "FAILED" if reason else "SUCCEEDED"
    echo(f"Phase complete: {phase.name.upper()} State: {status}")
    if reason:
        echo(f"Phase context status code: {reason}")
    return PhaseResult(phase.name, status, reason)


def _run_commands(commands: tuple[str, ...], shell: _Shell, succeeding: bool, echo: Echo) -> str:
    """The first failure's reason in CodeBuild's words, or '' when every command succeeded."""
    for command in commands:
        echo(f"Running command {command}")
        code, tail = shell.run(command, succeeding, echo)
        if code != 0:
            last = f" (last output: {tail[-1].strip()})" if tail and tail[-1].strip() else ""
            return (
                f"COMMAND_EXECUTION_ERROR: Error while executing command: {command.strip()}. "
                f"Reason: exit status {code}{last}"
            )
    return ""


def _collect_artifacts(
    spec: Buildspec,
    context: BuildContext,
    shell: _Shell,
    output_dir: Path,
    echo: Echo,
) -> tuple[Path | None, str | None]:
    if spec.artifacts is None:
        return None, None
    artifacts = spec.artifacts
    base = context.source_dir / artifacts.base_directory
    found = _matches(base, artifacts.files, artifacts.exclude_paths)
    if not found:
        return None, None
    output_dir.mkdir(parents=True, exist_ok=True)
    for path in found:
        relative = Path(path.name) if artifacts.discard_paths else path.relative_to(base)
        (output_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, output_dir / relative)
    name = shell.value_of(artifacts.name) if artifacts.name else None
    echo(f"UPLOAD_ARTIFACTS: {len(found)} file(s) as {name or context.project}")
    return output_dir, name


def _matches(base: Path, patterns: tuple[str, ...], excluded: tuple[str, ...] = ()) -> list[Path]:
    """The files under BASE matching any of PATTERNS and none of EXCLUDED (CodeBuild globs:
    '**/' any directories, '*' within one name). Symlinked directories are not entered."""
    if not base.is_dir():
        return []
    wanted = [_glob_regex(pattern) for pattern in patterns]
    unwanted = [_glob_regex(pattern) for pattern in excluded]
    found = []
    for directory, _, files in os.walk(base):
        for name in files:
            relative = (Path(directory) / name).relative_to(base).as_posix()
            if any(r.fullmatch(relative) for r in wanted) and not any(
                r.fullmatch(relative) for r in unwanted
            ):
                found.append(Path(directory) / name)
    return sorted(found)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    text = pattern.removeprefix("./")
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", text)
    translated = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(translated.get(part, re.escape(part)) for part in parts))


def _collect_report(group: ReportGroup, source_dir: Path) -> ReportResult:
    base = source_dir / group.base_directory
    files = tuple(_matches(base, group.files))
    tests = 0
    failures: list[str] = []
    for path in files:
        count, failed = _junit_results(path)
        tests += count
        failures.extend(failed)
    return ReportResult(group.name, files, tests, tuple(failures))


def _junit_results(path: Path) -> tuple[int, list[str]]:
    try:
        root = ElementTree.parse(path).getroot()  # noqa: S314 - the build's own report file
    except ElementTree.ParseError:
        return 0, [f"{path.name}: not a JUnit XML file"]
    cases = list(root.iter("testcase"))
    failed = [
        f"{case.get('classname', '')}.{case.get('name', '')}".lstrip(".")
        for case in cases
        if case.find("failure") is not None or case.find("error") is not None
    ]
    return len(cases), failed
