"""`build.py pipeline run --local`: the release pipeline's stages, in order, on this machine.

Source -> BuildAndTest -> Publish -> DeployDev -> DeployStaging -> Approve -> DeployProd, named
and ordered as the pipeline stack has them (products/pipeline.py stage_names): BuildAndTest gets
a fresh checkout of the commit, hands on its output artifact BuildOutput (the checkout with
dist/), and every later CodeBuild stage starts from a fresh copy of BuildOutput. Each runs its
buildspec with the buildspec runner (portfolio/pipeline/codebuild.py) against one localcloud,
where the pipeline and every environment have their own account. A failed stage ends the run:
later stages do not run.

The checkouts reuse this repository's virtualenvs (.venv, .venv-checkov) and download cache
(.cache) through symlinks, so `scripts/setup` in a buildspec finds them up to date and does
nothing: a local run tests the commit, not the installation of its pinned dependencies.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.config import CatalogConfig, load_config
from portfolio.aws import AwsClients, Target
from portfolio.bootstrap import deploy_spoke
from portfolio.pipeline.buildspec import load_buildspec
from portfolio.pipeline.codebuild import BuildContext, BuildResult, run_build
from portfolio.pipeline.errors import PipelineError
from portfolio.pipeline.local_accounts import ADMIN_ROLE, as_account_admin, ensure_log_groups

Echo = Callable[[str], None]
Approval = Callable[[], bool]
PIPELINE_NAME = "oncall-catalog"
BUILD_OUTPUT = "BuildOutput"
VENV_REQUIREMENTS = {".venv": "requirements.txt", ".venv-checkov": "requirements-checkov.txt"}
# The local endpoint accepts any key; the pipeline's own account is moto's default.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class CodeBuildStage:
    name: str
    buildspec: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalStage:
    name: str


Stage = CodeBuildStage | ApprovalStage


def pipeline_stages(config: CatalogConfig) -> tuple[Stage, ...]:
    """The stages after Source, named and ordered as the pipeline stack has them."""
    from products.pipeline import stage_name, stage_names

    environments = {stage_name(env): env for env in config.environment_names}
    stages: list[Stage] = []
    for name in stage_names(config)[1:]:
        if name == "Approve":
            stages.append(ApprovalStage(name))
        elif name in environments:
            variables = {"DEPLOY_ENVIRONMENT": environments[name]}
            stages.append(CodeBuildStage(name, "buildspecs/deploy.yml", variables))
        else:
            stages.append(CodeBuildStage(name, STAGE_BUILDSPECS[name]))
    return tuple(stages)


STAGE_BUILDSPECS = {"BuildAndTest": "buildspec.yml", "Publish": "buildspecs/publish.yml"}


@dataclass(frozen=True)
class StageResult:
    name: str
    result: str  # Succeeded | Failed | Rejected | Not run
    seconds: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class LocalRun:
    """Where and how to run: the repository and commit, the local endpoint, the approval."""

    repository: Path
    commit: str
    endpoint_url: str
    work_dir: Path
    approval: Approval
    region: str = "us-east-1"
    # Project-level variables of every CodeBuild stage (they override the buildspecs' own).
    project_variables: dict[str, str] = field(default_factory=dict)
    # The platform team's one-time setup (bootstrap, environment accounts) before the stages;
    # off only for repositories that are not this project (the runner's own tests).
    setup_accounts: bool = True


@dataclass(frozen=True)
class PipelineResult:
    commit: str
    stages: tuple[StageResult, ...]

    @property
    def succeeded(self) -> bool:
        return all(stage.result == "Succeeded" for stage in self.stages)

    @property
    def failure(self) -> str:
        for stage in self.stages:
            if stage.result in ("Failed", "Rejected"):
                return f"stage {stage.name} {stage.result.lower()}: {stage.reason}"
        return ""


class _Runner:
    def __init__(self, run: LocalRun, echo: Echo) -> None:
        self.run = run
        self.echo = echo
        self.results: list[StageResult] = []
        self.resolved = ""
        self.build_output = run.work_dir / "artifacts" / BUILD_OUTPUT

    def environment(self) -> dict[str, str]:
        return {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.run.endpoint_url,
            "AWS_REGION": self.run.region,
            "AWS_DEFAULT_REGION": self.run.region,
            **self.run.project_variables,
        }

    def timed(self, name: str, action: Callable[[], str]) -> bool:
        """Run one stage; record its result; whether the pipeline goes on."""
        self.echo(f"==> {name}")
        started = time.monotonic()
        try:
            reason = action()
        except PipelineError as error:
            reason = str(error)
        result = "Failed" if reason else "Succeeded"
        if reason.startswith("rejected"):
            result = "Rejected"
        seconds = time.monotonic() - started
        self.results.append(StageResult(name, result, seconds, reason))
        self.echo(f"<== {name}: {result} ({seconds:.1f} s){': ' + reason if reason else ''}")
        return not reason


def run_pipeline(run: LocalRun, echo: Echo) -> PipelineResult:
    """Run every stage in order until one fails; the result of each (later ones: Not run)."""
    runner = _Runner(run, echo)
    if not runner.timed("Source", lambda: _source(runner)):
        return PipelineResult(runner.resolved, tuple(runner.results))
    config = load_config(run.work_dir / "source" / "catalog.yaml")
    if run.setup_accounts:  # not a stage: a failure here is the machine's, not the commit's
        _prepare_accounts(runner, config)
    go_on = True
    for stage in pipeline_stages(config):
        if not go_on:
            runner.results.append(StageResult(stage.name, "Not run"))
            continue
        go_on = runner.timed(stage.name, _stage_action(runner, stage))
    return PipelineResult(runner.resolved, tuple(runner.results))


def _stage_action(runner: _Runner, stage: Stage) -> Callable[[], str]:
    if isinstance(stage, ApprovalStage):
        return lambda: _approve(runner)
    return lambda: _codebuild(runner, stage)


def _source(runner: _Runner) -> str:
    """Check the commit out (the source action's artifact); its full id is the source version."""
    checkout = runner.run.work_dir / "source"
    checkout_commit(runner.run.repository, runner.run.commit, checkout)
    runner.resolved = _git(checkout, "rev-parse", "HEAD")
    runner.echo(f"commit {runner.resolved} of {runner.run.repository}")
    return ""


def checkout_commit(repository: Path, commit: str, into: Path) -> None:
    """A clean checkout of COMMIT with this repository's virtualenvs and cache linked in."""
    # Resolved here, not in the clone: a clone knows REPOSITORY's branches only as origin/<name>.
    try:
        resolved = _git(repository, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    except PipelineError as error:
        raise PipelineError(f"commit {commit!r} not found in {repository}") from error
    if into.exists():
        shutil.rmtree(into)
    into.parent.mkdir(parents=True, exist_ok=True)
    _git(into.parent, "clone", "--quiet", "--shared", "--no-checkout", str(repository), str(into))
    _git(into, "checkout", "--quiet", "--detach", resolved)
    link_local_environments(repository, into)


def link_local_environments(repository: Path, into: Path) -> None:
    """Link REPOSITORY's virtualenvs and cache into INTO, so its scripts/setup does nothing.

    A virtualenv is linked only when its stamp (scripts/setup's sha256 of the requirements file
    and the pinned pip) is what INTO's scripts/setup wants: otherwise setup would reinstall it,
    and through a link that would be into the shared environment. Unlinked, setup builds one
    of the checkout's own."""
    for name, requirements in VENV_REQUIREMENTS.items():
        shared = repository / name
        if (
            shared.is_dir()
            and not (into / name).exists()
            and _stamp_matches(shared, into, requirements)
        ):
            (into / name).symlink_to(shared.resolve(), target_is_directory=True)
    cache = repository / ".cache"
    if cache.is_dir() and not (into / ".cache").exists():
        (into / ".cache").symlink_to(cache.resolve(), target_is_directory=True)


def _stamp_matches(venv: Path, checkout: Path, requirements: str) -> bool:
    stamp = venv / ".requirements.sha256"
    setup = checkout / "scripts" / "setup"
    wanted_file = checkout / requirements
    if not (stamp.is_file() and setup.is_file() and wanted_file.is_file()):
        return False
    pip = re.search(r"^PIP_VERSION=(\S+)$", setup.read_text(encoding="utf-8"), re.MULTILINE)
    if pip is None:
        return False
    wanted = hashlib.sha256(wanted_file.read_bytes() + f"pip=={pip.group(1)}\n".encode())
    return stamp.read_text(encoding="utf-8").strip() == wanted.hexdigest()


def _git(where: Path, *args: str) -> str:
    completed = subprocess.run(  # noqa: S603 - git with our own arguments
        ["git", *args],  # noqa: S607
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise PipelineError(f"git {' '.join(args)}: {completed.stderr.strip()}")
    return completed.stdout.strip()


def _prepare_accounts(runner: _Runner, config: CatalogConfig) -> None:
    """The one-time setup of a platform team, before the first run: the pipeline account's
    bootstrap stack and each environment account's spoke stack, deployed from the commit's
    config with this runner's templates (so a commit that breaks the build breaks BuildAndTest,
    not the setup)."""
    runner.echo("==> Setup (once per account: bootstrap stack, spoke stacks, log groups)")
    for line in prepare_accounts(runner.run, config):
        runner.echo(line)


def prepare_accounts(run: LocalRun, config: CatalogConfig) -> list[str]:
    from products.build import infra_templates

    clients = AwsClients(Target(endpoint_url=run.endpoint_url, region=run.region))
    own = clients.account_id(run.region)
    templates = infra_templates(config)
    done = [_bootstrap(clients, config, templates["bootstrap"])]
    spokes: list[str] = []
    for environment in config.environment_names:
        target = config.deploy_target(environment)
        if target.account is None or target.account == own:
            for region in target.regions:
                ensure_log_groups(clients.client("logs", region), config, environment)
            continue
        if target.account not in spokes:
            spokes.append(target.account)
            outcome = deploy_spoke(
                clients,
                config,
                templates["spoke"],
                target.account,
                admin_role=ADMIN_ROLE,
                pipeline_account=own,
                progress=lambda line: None,
            )
            done.append(f"account {target.account}: spoke stack {outcome}")
        admin = as_account_admin(clients, target.account, target.regions[0])
        for region in target.regions:
            ensure_log_groups(admin.client("logs", region), config, environment)
    return done


def _bootstrap(clients: AwsClients, config: CatalogConfig, body: str) -> str:
    from portfolio import bootstrap

    organization = config.portfolio.get("shares", {}).get("organization_id")
    regions = config.portfolio["regions"]
    outcomes = [
        bootstrap.deploy(
            clients.client("cloudformation", region),
            region,
            body,
            bootstrap.bootstrap_parameters(body, organization, region == regions[0]),
            lambda line: None,
        )
        for region in regions
    ]
    return f"account {clients.account_id(regions[0])}: bootstrap stack {', '.join(outcomes)}"


def _codebuild(runner: _Runner, stage: CodeBuildStage) -> str:
    """A CodeBuild action in a fresh container: BuildAndTest gets the commit's checkout and
    hands on BuildOutput (its `artifacts`); the later stages get a copy of BuildOutput."""
    stage_dir = runner.run.work_dir / stage.name
    source = stage_dir / "src"
    first = stage.name == "BuildAndTest"
    if first:
        checkout_commit(runner.run.repository, runner.resolved, source)
    else:
        _unpack(runner.build_output, source, runner.run.repository)
    context = BuildContext(
        source_dir=source,
        project=f"{PIPELINE_NAME}-{stage.name}",
        resolved_source_version=runner.resolved,
        initiator=f"codepipeline/{PIPELINE_NAME}",
        environment={**runner.environment(), **stage.variables},
    )
    spec = load_buildspec(source / stage.buildspec)
    output = runner.build_output if first else stage_dir / "output"
    result = run_build(spec, context, output, lambda line: runner.echo(f"  | {line}"))
    return _build_failure(result)


def _unpack(artifact: Path, into: Path, repository: Path) -> None:
    """An input artifact as CodePipeline hands it to CodeBuild, with the venvs linked in."""
    if not artifact.is_dir():
        raise PipelineError(f"input artifact {artifact.name} is missing")
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(artifact, into, symlinks=True)
    link_local_environments(repository, into)


def _build_failure(result: BuildResult) -> str:
    if result.succeeded:
        return ""
    failed_tests = [name for report in result.reports for name in report.failures]
    tests = f" (failed tests: {', '.join(failed_tests[:5])})" if failed_tests else ""
    return f"{result.failure}{tests}"


def _approve(runner: _Runner) -> str:
    runner.echo("manual approval: promote to prod?")
    if runner.run.approval():
        return ""
    return "rejected: the manual approval was refused; prod was not deployed"


def summary_table(result: PipelineResult) -> str:
    width = max(len(stage.name) for stage in result.stages)
    lines = [f"{'stage':<{width}}  {'result':<9}  duration", "-" * (width + 22)]
    for stage in result.stages:
        duration = f"{stage.seconds:6.1f} s" if stage.result != "Not run" else "      -"
        lines.append(f"{stage.name:<{width}}  {stage.result:<9}  {duration}")
    return "\n".join(lines)
