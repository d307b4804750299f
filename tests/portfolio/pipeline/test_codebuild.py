"""The buildspec runner on small buildspecs in tmp folders, with real bash: phase order, the
phase-transition table, finally, on-failure, one shell session, variables, artifacts, reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfolio.pipeline.buildspec import BuildspecError, load_buildspec
from portfolio.pipeline.codebuild import BuildContext, BuildResult, run_build


def _build(tmp_path: Path, text: str, **environment: str) -> tuple[BuildResult, list[str]]:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "buildspec.yml").write_text(text, encoding="utf-8")
    lines: list[str] = []
    context = BuildContext(
        source_dir=source,
        project="demo",
        resolved_source_version="abc123",
        initiator="codepipeline/local",
        environment=dict(environment),
    )
    result = run_build(
        load_buildspec(source / "buildspec.yml"), context, tmp_path / "out", lines.append
    )
    return result, lines


def _ran(lines: list[str]) -> list[str]:
    return [line.removeprefix("ran ") for line in lines if line.startswith("ran ")]


def _statuses(result: BuildResult) -> dict[str, str]:
    return {phase.name: phase.status for phase in result.phases}


ALL_PHASES = """
version: 0.2
phases:
  install: {commands: [echo ran install]}
  pre_build: {commands: [echo ran pre_build]}
  build: {commands: [echo ran build, %(build)s, echo ran build-after]}
  post_build:
    commands: [echo ran post_build $CODEBUILD_BUILD_SUCCEEDING]
    finally: [echo ran post_build-finally]
"""


def test_phases_run_in_order_and_each_command_once(tmp_path: Path) -> None:
    result, lines = _build(tmp_path, ALL_PHASES % {"build": "true"})
    assert result.succeeded
    assert _ran(lines) == [
        "install",
        "pre_build",
        "build",
        "build-after",
        "post_build 1",
        "post_build-finally",
    ]


def test_a_failed_build_phase_still_runs_post_build_with_succeeding_0(tmp_path: Path) -> None:
    result, lines = _build(tmp_path, ALL_PHASES % {"build": "exit 3"})
    assert not result.succeeded
    assert _ran(lines)[-3:] == ["build", "post_build 0", "post_build-finally"]
    assert _statuses(result) == {
        "install": "SUCCEEDED",
        "pre_build": "SUCCEEDED",
        "build": "FAILED",
        "post_build": "SUCCEEDED",
    }
    assert result.failure == (
        "BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: exit 3. "
        "Reason: exit status 3"
    )


@pytest.mark.parametrize("failing", ["install", "pre_build"])
def test_a_failed_install_or_pre_build_runs_no_later_phase(tmp_path: Path, failing: str) -> None:
    text = ALL_PHASES.replace(f"[echo ran {failing}]", f"[echo ran {failing}, false]")
    result, lines = _build(tmp_path, text % {"build": "true"})
    assert _ran(lines)[-1] == failing
    later = [name for name in ("pre_build", "build", "post_build") if name != failing][
        ("install", "pre_build").index(failing) :
    ]
    assert all(_statuses(result)[name] == "NOT_RUN" for name in later)
    assert result.failure.startswith(f"{failing.upper()}: COMMAND_EXECUTION_ERROR")


def test_finally_runs_after_a_failed_command_and_the_phase_still_fails(tmp_path: Path) -> None:
    text = """
version: 0.2
phases:
  pre_build:
    commands: [echo ran one, false, echo ran skipped]
    finally: [echo ran cleanup]
  build: {commands: [echo ran build]}
"""
    result, lines = _build(tmp_path, text)
    assert _ran(lines) == ["one", "cleanup"]
    assert _statuses(result) == {"pre_build": "FAILED", "build": "NOT_RUN"}


def test_on_failure_continue_goes_on_and_abort_stops(tmp_path: Path) -> None:
    text = """
version: 0.2
phases:
  install: {on-failure: CONTINUE, commands: [false]}
  build: {on-failure: ABORT, commands: [echo ran build, false]}
  post_build: {commands: [echo ran post_build]}
artifacts: {files: [buildspec.yml]}
"""
    result, lines = _build(tmp_path, text)
    assert _ran(lines) == ["build"]
    assert _statuses(result) == {"install": "FAILED", "build": "FAILED", "post_build": "NOT_RUN"}
    assert result.artifacts_dir is None  # an aborted build uploads nothing


def test_one_shell_session_keeps_variables_and_directory_across_phases(tmp_path: Path) -> None:
    text = """
version: 0.2
phases:
  install:
    commands:
      - PLAIN=kept; export EXPORTED="with space"
      - mkdir -p sub && cd sub
  build:
    commands:
      - echo "ran $PLAIN/$EXPORTED/$(basename "$PWD")"
      - 'bash -c ''echo "ran child sees $EXPORTED and ${PLAIN:-nothing}"'''
"""
    result, lines = _build(tmp_path, text)
    assert result.succeeded
    assert _ran(lines) == ["kept/with space/sub", "child sees with space and nothing"]


def test_variables_precedence_and_codebuild_variables(tmp_path: Path) -> None:
    text = """
version: 0.2
env:
  variables: {STAGE: from-buildspec, OTHER: buildspec-only}
phases:
  build:
    commands:
      - echo "ran $STAGE $OTHER $CODEBUILD_RESOLVED_SOURCE_VERSION $CODEBUILD_INITIATOR"
      - echo "ran $CODEBUILD_SRC_DIR"
      - echo "ran ${CODEBUILD_BUILD_ID%%:*}"
"""
    result, lines = _build(tmp_path, text, STAGE="from-project")
    assert _ran(lines) == [
        "from-project buildspec-only abc123 codepipeline/local",
        str(tmp_path / "src"),
        "demo",
    ]
    assert result.build_id.startswith("demo:")


def test_exported_variables_take_their_value_at_the_end_of_the_build(tmp_path: Path) -> None:
    text = """
version: 0.2
env:
  exported-variables: [VERSION, CODEBUILD_RESOLVED_SOURCE_VERSION, NEVER_SET]
phases:
  build: {commands: [export VERSION=1]}
  post_build: {commands: ["VERSION=2"]}
"""
    result, _ = _build(tmp_path, text)
    assert result.exported_variables == {
        "VERSION": "2",
        "CODEBUILD_RESOLVED_SOURCE_VERSION": "abc123",
    }


def test_artifacts_from_the_base_directory_with_a_shell_evaluated_name(tmp_path: Path) -> None:
    text = """
version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist/templates && echo a > dist/templates/a.json && echo m > dist/manifest.json
      - echo outside > other.txt
artifacts:
  base-directory: dist
  files: ["**/*"]
  name: bundle-$CODEBUILD_RESOLVED_SOURCE_VERSION
"""
    result, _ = _build(tmp_path, text)
    assert result.artifacts_dir is not None
    copied = sorted(
        str(p.relative_to(result.artifacts_dir))
        for p in result.artifacts_dir.rglob("*")
        if p.is_file()
    )
    assert copied == ["manifest.json", "templates/a.json"]
    assert result.artifact_name == "bundle-abc123"


def test_no_matching_artifact_fails_the_build_as_codebuild_does(tmp_path: Path) -> None:
    text = "version: 0.2\nphases:\n  build: {commands: ['true']}\nartifacts: {files: [missing/*]}\n"
    result, _ = _build(tmp_path, text)
    assert not result.succeeded
    assert result.failure == "UPLOAD_ARTIFACTS: CLIENT_ERROR: no matching artifact paths found"


def test_reports_count_junit_test_cases_and_name_the_failures(tmp_path: Path) -> None:
    junit = (
        '<testsuite><testcase classname="t.a" name="ok"/>'
        '<testcase classname="t.a" name="bad"><failure message="x"/></testcase></testsuite>'
    )
    text = f"""
version: 0.2
phases:
  build:
    commands:
      - mkdir -p reports && echo '{junit}' > reports/junit.xml
      - exit 1
reports:
  unit-tests:
    base-directory: reports
    files: [junit.xml]
"""
    result, _ = _build(tmp_path, text)
    assert [(r.group, r.tests, r.failures) for r in result.reports] == [
        ("unit-tests", 2, ("t.a.bad",))
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 0.3\nphases: {}\n",
            "YAML_FILE_ERROR: Invalid buildspec version: 0.3. Expecting: 0.2",
        ),
        (
            "version: 0.1\nphases: {}\n",
            "YAML_FILE_ERROR: Invalid buildspec version: 0.1. Expecting: 0.2",
        ),
        ("phases: {}\n", "YAML_FILE_ERROR: Missing buildspec version. Expecting: 0.2"),
        (
            "version: 0.2\nphases:\n  artifacts: {commands: [x]}\n",
            "YAML_FILE_ERROR: Invalid buildspec phase name: artifacts. "
            "Expecting: build,install,post_build,pre_build",
        ),
        ("version: 0.2\nsteps: []\n", 'YAML_FILE_ERROR: unsupported field "steps" in buildspec'),
        (
            "version: 0.2\nphases:\n  build: {commands: [x], on_failure: ABORT}\n",
            'YAML_FILE_ERROR: unsupported field "on_failure" in phases/build',
        ),
        (
            "version: 0.2\nphases:\n  build: {commands: [x], on-failure: RETRY}\n",
            "YAML_FILE_ERROR: phases/build/on-failure: RETRY is not supported",
        ),
        (
            "version: 0.2\nphases:\n  build:\n    commands:\n      - tag: {x: 1}\n",
            "YAML_FILE_ERROR: Expected phases/build/commands[0] to be of string type",
        ),
    ],
)
def test_buildspecs_codebuild_refuses_are_refused_before_any_command(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "buildspec.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BuildspecError) as raised:
        load_buildspec(path)
    assert str(raised.value).startswith(f"buildspec.yml: {message}")


def test_a_missing_buildspec_is_codebuilds_yaml_file_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(BuildspecError, match="YAML_FILE_ERROR: YAML file does not exist"):
        load_buildspec(tmp_path / "buildspec.yml")


def test_exclude_paths_leave_files_out_and_symlinked_folders_are_not_entered(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "venv"
    outside.mkdir()
    (outside / "big.bin").write_text("x")
    source = tmp_path / "src"
    source.mkdir()
    (source / ".venv").symlink_to(outside, target_is_directory=True)
    text = """
version: 0.2
phases:
  build:
    commands: ["mkdir -p dist reports && echo a > dist/a && echo r > reports/r && echo k > keep"]
artifacts:
  files: ["**/*"]
  exclude-paths: ["reports/**/*", "buildspec.yml"]
"""
    result, _ = _build(tmp_path, text)
    assert result.artifacts_dir is not None
    copied = sorted(
        str(p.relative_to(result.artifacts_dir))
        for p in result.artifacts_dir.rglob("*")
        if p.is_file()
    )
    assert copied == ["dist/a", "keep"]
