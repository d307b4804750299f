"""The local pipeline made to fail at each stage in turn. Each time the stages after the failed
one do not run, prod is untouched, and the failure names the stage and the reason.

The real repository (a copy with its environments in three accounts) where the point is the
real pipeline; a tiny repository with tiny buildspecs where the point is the runner (approval).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from portfolio.pipeline.local_run import LocalRun, PipelineResult, run_pipeline, summary_table
from portfolio.pipeline.trigger import BranchTrigger
from tests.portfolio.pipeline.project_repo import (
    ACCOUNTS,
    QUICK_TESTS,
    REGION,
    git,
    merge_on_main,
    project_copy,
    provisioned_in,
    run_commit,
)

pytestmark = pytest.mark.slow


def _results(result: PipelineResult) -> dict[str, str]:
    return {stage.name: stage.result for stage in result.stages}


def _stopped_at(result: PipelineResult, stage: str) -> None:
    names = [s.name for s in result.stages]
    assert _results(result)[stage] in ("Failed", "Rejected")
    assert all(s.result == "Succeeded" for s in result.stages[: names.index(stage)])
    assert all(s.result == "Not run" for s in result.stages[names.index(stage) + 1 :])
    assert result.failure.startswith(f"stage {stage} ")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repository = project_copy(tmp_path_factory.mktemp("pipeline") / "repo")
    git(repository, "tag", "start")
    return repository


def _on_branch(project: Path, branch: str, change: Callable[[Path], None]) -> str:
    """CHANGE merged on main as it was at the start: the tests share the repository, not
    each other's merges."""
    git(project, "checkout", "--quiet", "-B", "main", "start")
    return merge_on_main(project, branch, change)


def test_a_failing_unit_test_stops_build_and_test(
    project: Path, local_endpoint: str, tmp_path: Path
) -> None:
    def add_failing_test(repository: Path) -> None:
        (repository / "tests" / "test_release_gate.py").write_text(
            "def test_release_gate() -> None:\n    assert 1 + 1 == 3\n"
        )

    commit = _on_branch(project, "failing-test", add_failing_test)
    result, _ = run_commit(
        project, commit, local_endpoint, tmp_path, tests=f"{QUICK_TESTS} tests/test_release_gate.py"
    )
    _stopped_at(result, "BuildAndTest")
    assert "PRE_BUILD: COMMAND_EXECUTION_ERROR" in result.failure
    assert "failed tests: tests.test_release_gate.test_release_gate" in result.failure
    assert provisioned_in(local_endpoint, ACCOUNTS["prod"]) == []


def test_a_handler_changed_without_a_bump_stops_the_build(
    project: Path, local_endpoint: str, tmp_path: Path
) -> None:
    def change_handler(repository: Path) -> None:
        app = repository / "handlers" / "health_checker" / "app.py"
        app.write_text(app.read_text() + "\n# a change nobody bumped\n")

    commit = _on_branch(project, "unbumped-handler", change_handler)
    result, _ = run_commit(project, commit, local_endpoint, tmp_path)
    _stopped_at(result, "BuildAndTest")
    assert "BUILD: COMMAND_EXECUTION_ERROR" in result.failure
    assert "build.py build" in result.failure
    assert "python build.py bump health-checker --patch" in result.failure
    assert provisioned_in(local_endpoint, ACCOUNTS["prod"]) == []


def test_a_lint_finding_stops_the_build(project: Path, local_endpoint: str, tmp_path: Path) -> None:
    # A value troposphere lets through and cfn-lint refuses (a lifecycle rule's Status is
    # Enabled or Disabled). An ExpirationInDays of 0 once served here: neither linter flags it,
    # and the test passed only on checkov's false CKV_AWS_45 finding in this test's folder name.
    def break_a_template(repository: Path) -> None:
        infra = repository / "products" / "infra.py"
        text = infra.read_text()
        assert 'Status="Enabled", ExpirationInDays=365' in text
        infra.write_text(
            text.replace(
                'Status="Enabled", ExpirationInDays=365', 'Status="On", ExpirationInDays=365'
            )
        )

    commit = _on_branch(project, "lint-finding", break_a_template)
    result, lines = run_commit(project, commit, local_endpoint, tmp_path)
    _stopped_at(result, "BuildAndTest")
    assert "build.py lint" in result.failure
    assert any("E3030 'On' is not one of ['Enabled', 'Disabled']" in line for line in lines)
    assert provisioned_in(local_endpoint, ACCOUNTS["prod"]) == []


def test_a_launch_failing_in_staging_stops_before_prod(
    project: Path, local_endpoint: str, tmp_path: Path
) -> None:
    def a_topic_staging_lacks(repository: Path) -> None:
        # A value every check before the launch accepts (build, plan, the template's pattern)
        # that only the staging account refuses: its alarms' topic does not exist there.
        config = repository / "catalog.yaml"
        text = config.read_text()
        anchor = "      # The handler's own alarms go to the on-call topic"
        assert anchor in text
        topic = f"arn:aws:sns:{REGION}:{ACCOUNTS['staging']}:no-such-topic"
        staging = f'      staging: {{AlarmTopicArn: "{topic}"}}\n'
        config.write_text(text.replace(anchor, staging + anchor, 1))

    commit = _on_branch(project, "staging-alarm-topic", a_topic_staging_lacks)
    result, _ = run_commit(project, commit, local_endpoint, tmp_path)
    _stopped_at(result, "DeployStaging")
    assert "alert-handler-staging" in result.failure
    assert provisioned_in(local_endpoint, ACCOUNTS["dev"]) == [
        "alert-handler-dev",
        "auto-healer-dev",
        "health-checker-dev",
        "log-processor-dev",
    ]
    assert provisioned_in(local_endpoint, ACCOUNTS["prod"]) == []
    assert "DeployStaging  Failed" in summary_table(result)


TINY_BUILDSPEC = """
version: 0.2
phases:
  build:
    commands:
      - echo "%(stage)s $DEPLOY_ENVIRONMENT" >> "$MARKERS"
artifacts:
  files: ["**/*"]
"""

TINY_CONFIG = (Path(__file__).resolve().parents[3] / "catalog.yaml").read_text()


def _tiny_repository(where: Path) -> Path:
    where.mkdir()
    git(where, "init", "--quiet", "-b", "main")
    (where / "catalog.yaml").write_text(TINY_CONFIG)
    (where / "buildspecs").mkdir()
    (where / "buildspec.yml").write_text(TINY_BUILDSPEC % {"stage": "build"})
    (where / "buildspecs" / "publish.yml").write_text(TINY_BUILDSPEC % {"stage": "publish"})
    (where / "buildspecs" / "deploy.yml").write_text(TINY_BUILDSPEC % {"stage": "deploy"})
    git(where, "add", "-A")
    git(where, "commit", "--quiet", "-m", "tiny")
    return where


def _run_tiny(repository: Path, commit: str, endpoint: str, work: Path) -> PipelineResult:
    """COMMIT of the tiny repository through the pipeline, approved, without account setup."""
    run = LocalRun(repository, commit, endpoint, work, approval=lambda: True, setup_accounts=False)
    return run_pipeline(run, lambda line: None)


@pytest.mark.parametrize("approve", [False, True])
def test_the_approval_gates_prod(tmp_path: Path, local_endpoint: str, approve: bool) -> None:
    repository = _tiny_repository(tmp_path / "tiny")
    trigger = BranchTrigger(repository)
    assert trigger.new_commit() is None
    (repository / "README").write_text("a change")
    git(repository, "add", "README")
    git(repository, "commit", "--quiet", "-m", "change")
    commit = trigger.new_commit()
    assert commit is not None
    markers = tmp_path / "markers"
    run = LocalRun(
        repository,
        commit,
        local_endpoint,
        tmp_path / "work",
        approval=lambda: approve,
        project_variables={"MARKERS": str(markers)},
        setup_accounts=False,
    )
    result = run_pipeline(run, lambda line: None)
    deployed = markers.read_text().splitlines()
    assert deployed[:4] == ["build ", "publish ", "deploy dev", "deploy staging"]
    if approve:
        assert result.succeeded
        assert deployed[4:] == ["deploy prod"]
    else:
        _stopped_at(result, "Approve")
        assert result.failure == (
            "stage Approve rejected: rejected: the manual approval was refused; "
            "prod was not deployed"
        )
        assert deployed[4:] == []


def test_a_buildspec_codebuild_would_refuse_fails_its_stage_with_codebuilds_reason(
    tmp_path: Path, local_endpoint: str
) -> None:
    repository = _tiny_repository(tmp_path / "tiny")
    (repository / "buildspec.yml").write_text("version: 0.3\nphases: {}\n")
    git(repository, "commit", "--quiet", "-am", "a buildspec of the future")
    result = _run_tiny(repository, "HEAD", local_endpoint, tmp_path / "work")
    _stopped_at(result, "BuildAndTest")
    assert result.failure == (
        "stage BuildAndTest failed: buildspec.yml: YAML_FILE_ERROR: "
        "Invalid buildspec version: 0.3. Expecting: 0.2"
    )


def test_an_unknown_commit_fails_the_source_stage(tmp_path: Path, local_endpoint: str) -> None:
    repository = _tiny_repository(tmp_path / "tiny")
    result = _run_tiny(repository, "no-such-commit", local_endpoint, tmp_path / "work")
    assert [(s.name, s.result) for s in result.stages] == [("Source", "Failed")]
    assert (
        result.failure == f"stage Source failed: commit 'no-such-commit' not found in {repository}"
    )


def test_a_branch_of_the_repository_names_its_commit(tmp_path: Path, local_endpoint: str) -> None:
    repository = _tiny_repository(tmp_path / "tiny")
    git(repository, "checkout", "--quiet", "-b", "feature")
    (repository / "README").write_text("on the branch")
    git(repository, "add", "README")
    git(repository, "commit", "--quiet", "-m", "feature")
    git(repository, "checkout", "--quiet", "main")
    result = _run_tiny(repository, "feature", local_endpoint, tmp_path / "work")
    assert result.commit == git(repository, "rev-parse", "feature")
    assert (tmp_path / "work" / "source" / "README").read_text() == "on the branch"
