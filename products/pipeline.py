"""The release pipeline stack (dist/infra/pipeline.json), deployed once in the pipeline account.

CodePipeline V2, started by a push to the branch: Source (a CodeConnections connection) ->
BuildAndTest (buildspec.yml) -> Publish -> Deploy<Env> for each environment in catalog.yaml order,
with a manual approval before the last one. Each CodeBuild project has its own role, log group
and only the permissions its stage needs; publish and deploy permissions come from
products/permissions.py. A failed execution notifies the on-call topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs import codebuild as codebuild_actions
from awacs import codeconnections, codestar_connections, logs, s3, sns, sts
from awacs import kms as kms_actions
from awacs.aws import (
    Allow,
    ArnLike,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from awacs.helpers.trust import make_simple_assume_policy
from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template, codebuild, codepipeline
from troposphere import events as events_resources
from troposphere import iam as iam_resources
from troposphere import kms as kms_resources
from troposphere import logs as logs_resources
from troposphere import s3 as s3_resources
from troposphere import sns as sns_resources

from catalog.config import CatalogConfig
from products.builder import checkov_skips
from products.iam import statement
from products.key_policy import account_administers_key, logs_use_key
from products.permissions import (
    DEPLOY,
    DEPLOY_FROM_PIPELINE_ACCOUNT,
    PUBLISH,
    Permission,
    ScopeValues,
    policy_statements,
)

POLICY_VERSION = "2012-10-17"
SOURCE_ACTION = "Source"
SOURCE_OUTPUT = "SourceOutput"
BUILD_OUTPUT = "BuildOutput"
BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
# The build's JUnit report group is created by CodeBuild as "<project>-<group in buildspec>".
REPORT_GROUP = "junit"

CONNECTION_PATTERN = (
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:"
    r"connection/[0-9a-f-]{36}$"
)
REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$"
BRANCH_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}$"
LOG_RETENTION_DAYS = [7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653]


@dataclass(frozen=True)
class StageProject:
    """One CodeBuild project: the stage it runs, its buildspec and its role's statements."""

    stage: str
    buildspec: str
    statements: list[Statement]
    environment: str = ""  # DEPLOY_ENVIRONMENT, for deploy stages
    checkov_skips: tuple[tuple[str, str], ...] = ()

    @property
    def logical(self) -> str:
        return f"{self.stage}Project"


def stage_name(environment: str) -> str:
    """The deploy stage of ENVIRONMENT, as the pipeline and the local runner name it."""
    return f"Deploy{environment.title()}"


def stage_names(config: CatalogConfig) -> list[str]:
    """Every stage in order (the local runner runs the same list)."""
    deploys = [stage_name(env) for env in config.environment_names]
    approval = ["Approve"] if len(deploys) > 1 else []
    return ["Source", "BuildAndTest", "Publish", *deploys[:-1], *approval, *deploys[-1:]]


def build_pipeline_template(config: CatalogConfig) -> Template:
    template = Template()
    template.set_version("2010-09-09")
    template.set_description(
        "On-call Tools Catalog release pipeline: source, build and test, publish, deploy per "
        "environment with an approval before the last"
    )
    _add_parameters(template)
    _add_key(template, config)
    _add_artifact_bucket(template)
    _add_topics(template)
    projects = _projects(config)
    for project in projects:
        _add_project(template, config, project)
    _add_pipeline(template, config, projects)
    _add_failure_rule(template)
    return template


# -- parameters -----------------------------------------------------------------------------


def _add_parameters(template: Template) -> None:
    template.add_parameter(
        Parameter(
            "ConnectionArn",
            Type="String",
            AllowedPattern=CONNECTION_PATTERN,
            ConstraintDescription="must be the ARN of a CodeConnections connection, like "
            "arn:aws:codeconnections:us-east-1:111122223333:connection/ followed by its id",
            Description="The CodeConnections (CodeStar) connection to GitHub, GitLab or "
            "Bitbucket, in AVAILABLE state.",
        )
    )
    template.add_parameter(
        Parameter(
            "FullRepositoryId",
            Type="String",
            AllowedPattern=REPOSITORY_PATTERN,
            ConstraintDescription="must be the owner and the repository name separated by a "
            "slash, like my-org/oncall-catalog",
            Description="The repository, as owner/name.",
        )
    )
    template.add_parameter(
        Parameter(
            "BranchName",
            Type="String",
            Default="main",
            AllowedPattern=BRANCH_PATTERN,
            ConstraintDescription="must be a branch name: letters, digits, dot, dash, "
            "underscore and slash, not starting with a dot, dash or slash",
            Description="A push to this branch starts the pipeline.",
        )
    )
    template.add_parameter(
        Parameter(
            "LogRetentionInDays",
            Type="Number",
            Default=90,
            AllowedValues=LOG_RETENTION_DAYS,
            Description="How long the build logs are kept.",
        )
    )


# -- encryption, storage, notifications ------------------------------------------------------


def _add_key(template: Template, config: CatalogConfig) -> None:
    prefix = config.catalog["resource_prefix"]
    log_groups = Sub(
        f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:"
        f"log-group:/aws/codebuild/{prefix}-pipeline-*"
    )
    policy = PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            account_administers_key(),
            logs_use_key(
                "CloudWatchLogsEncryptsPipelineLogs",
                ArnLike("kms:EncryptionContext:aws:logs:arn", log_groups),
            ),
            Statement(
                # EventBridge publishes failures to the encrypted on-call topic with this key.
                Sid="EventBridgePublishesToEncryptedTopic",
                Effect=Allow,
                Principal=Principal("Service", "events.amazonaws.com"),
                Action=[kms_actions.Decrypt, kms_actions.GenerateDataKey],
                Resource=["*"],
                Condition=Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
            ),
        ],
    )
    template.add_resource(
        kms_resources.Key(
            "PipelineKey",
            Description="Encrypts the pipeline's artifacts, build logs and topics",
            EnableKeyRotation=True,
            KeyPolicy=policy,
        )
    )


def _add_artifact_bucket(template: Template) -> None:
    template.add_resource(
        s3_resources.Bucket(
            "PipelineArtifactBucket",
            Metadata=checkov_skips(
                {
                    "CKV_AWS_18": "artifacts are transient copies of the repository and the "
                    "build; CloudTrail records who read or wrote them",
                }
            ),
            BucketEncryption=s3_resources.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3_resources.ServerSideEncryptionRule(
                        BucketKeyEnabled=True,
                        ServerSideEncryptionByDefault=s3_resources.ServerSideEncryptionByDefault(
                            SSEAlgorithm="aws:kms",
                            KMSMasterKeyID=GetAtt("PipelineKey", "Arn"),
                        ),
                    )
                ]
            ),
            PublicAccessBlockConfiguration=s3_resources.PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            VersioningConfiguration=s3_resources.VersioningConfiguration(Status="Enabled"),
            OwnershipControls=s3_resources.OwnershipControls(
                Rules=[s3_resources.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            LifecycleConfiguration=s3_resources.LifecycleConfiguration(
                Rules=[
                    s3_resources.LifecycleRule(
                        Id="expire-old-artifacts",
                        Status="Enabled",
                        ExpirationInDays=90,
                        NoncurrentVersionExpiration=s3_resources.NoncurrentVersionExpiration(
                            NoncurrentDays=30
                        ),
                    )
                ]
            ),
        )
    )
    template.add_resource(
        s3_resources.BucketPolicy(
            "PipelineArtifactBucketPolicy",
            Bucket=Ref("PipelineArtifactBucket"),
            PolicyDocument=PolicyDocument(
                Version=POLICY_VERSION,
                Statement=[
                    Statement(
                        Sid="DenyInsecureTransport",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[s3.GetObject, s3.PutObject],
                        Resource=[Sub("${PipelineArtifactBucket.Arn}/*")],
                        Condition=Condition(Bool("aws:SecureTransport", False)),
                    )
                ],
            ),
        )
    )


def _add_topics(template: Template) -> None:
    for logical, why in (
        ("PlatformTopic", "approval requests before the last environment"),
        ("OnCallTopic", "failed pipeline executions"),
    ):
        template.add_resource(
            sns_resources.Topic(logical, KmsMasterKeyId=Ref("PipelineKey"), DisplayName=why)
        )
        template.add_output(
            Output(
                f"{logical}Arn",
                Value=Ref(logical),
                Description=f"Subscribe to it for {why}",
            )
        )
    template.add_resource(
        sns_resources.TopicPolicy(
            "OnCallTopicPolicy",
            Topics=[Ref("OnCallTopic")],
            PolicyDocument=PolicyDocument(
                Version=POLICY_VERSION,
                Statement=[
                    Statement(
                        Sid="PipelineFailuresArePublished",
                        Effect=Allow,
                        Principal=Principal("Service", "events.amazonaws.com"),
                        Action=[sns.Publish],
                        Resource=[Ref("OnCallTopic")],
                        Condition=Condition(
                            ArnLike("aws:SourceArn", GetAtt("PipelineFailedRule", "Arn"))
                        ),
                    )
                ],
            ),
        )
    )


# -- the stages' projects --------------------------------------------------------------------


def _projects(config: CatalogConfig) -> list[StageProject]:
    values = _scope_values(config)
    reads = [permission for permission in PUBLISH if _is_read(permission)]
    projects = [
        StageProject("BuildAndTest", "buildspec.yml", policy_statements(reads, values)),
        StageProject(
            "Publish",
            "buildspecs/publish.yml",
            policy_statements(PUBLISH, values),
            checkov_skips=(
                (
                    "CKV_AWS_111",
                    "the writes on '*' (CreateTagOption, AssociateTagOptionWithResource, "
                    "AssociateProductWithPortfolio, UpdateConstraint, DeleteConstraint) accept no "
                    "resource in IAM; every other write is scoped (products/permissions.py)",
                ),
            ),
        ),
    ]
    for env in config.environment_names:
        projects.append(
            StageProject(
                stage_name(env), "buildspecs/deploy.yml", _deploy_statements(config, env), env
            )
        )
    return projects


def _scope_values(config: CatalogConfig) -> ScopeValues:
    launch_role = config.portfolio.get("launch_role", {})
    return ScopeValues(
        regions=config.portfolio["regions"],
        bucket_prefix=config.catalog["artifact_bucket_prefix"],
        launch_role=launch_role.get("local_role_name")
        or launch_role.get("role_arn", "").split("/")[-1],
    )


def _is_read(permission: Permission) -> bool:
    # `plan` only reads: the read actions of the publish declaration (and the bucket checks).
    reads = ("Describe", "List", "Search", "Get")
    action = permission.name.partition(":")[2]
    return action.startswith(reads) or permission.name == "s3:ListBucket"


def _deploy_statements(config: CatalogConfig, environment: str) -> list[Statement]:
    """In the pipeline's own account: the deploy permissions; in another: assume its role."""
    target = config.deploy_target(environment)
    if target.account is None:
        return policy_statements(DEPLOY, _scope_values(config))
    role = config.pipeline.deploy_role_arn(target.account, partition="${AWS::Partition}")
    return [
        statement([sts.AssumeRole], [Sub(role)], sid="AssumeSpokeDeployRole"),
        *policy_statements(DEPLOY_FROM_PIPELINE_ACCOUNT, _scope_values(config)),
    ]


def deploy_project_role_name(config: CatalogConfig, environment: str) -> str:
    """The deploy project's role name, which the spoke's deploy role trusts."""
    return f"{config.catalog['resource_prefix']}-pipeline-deploy-{environment}"


def _project_name(config: CatalogConfig, project: StageProject) -> str:
    return f"{config.catalog['resource_prefix']}-pipeline-{_kebab(project.stage)}"


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def _add_project(template: Template, config: CatalogConfig, project: StageProject) -> None:
    name = _project_name(config, project)
    log_group = f"/aws/codebuild/{name}"
    template.add_resource(
        logs_resources.LogGroup(
            f"{project.stage}Logs",
            LogGroupName=log_group,
            RetentionInDays=Ref("LogRetentionInDays"),
            KmsKeyId=GetAtt("PipelineKey", "Arn"),
        )
    )
    template.add_resource(_project_role(config, project, name, log_group))
    variables = [
        codebuild.EnvironmentVariable(Name="DEPLOY_ENVIRONMENT", Value=project.environment)
    ]
    template.add_resource(
        codebuild.Project(
            project.logical,
            Name=name,
            Description=f"The pipeline's {project.stage} stage ({project.buildspec})",
            ServiceRole=GetAtt(f"{project.stage}Role", "Arn"),
            EncryptionKey=GetAtt("PipelineKey", "Arn"),
            Source=codebuild.Source(Type="CODEPIPELINE", BuildSpec=project.buildspec),
            Artifacts=codebuild.Artifacts(Type="CODEPIPELINE"),
            Environment=codebuild.Environment(
                Type="LINUX_CONTAINER",
                ComputeType="BUILD_GENERAL1_SMALL",
                Image=BUILD_IMAGE,
                EnvironmentVariables=variables if project.environment else [],
            ),
            LogsConfig=codebuild.LogsConfig(
                CloudWatchLogs=codebuild.CloudWatchLogs(Status="ENABLED", GroupName=log_group)
            ),
            TimeoutInMinutes=60,
        )
    )


def _project_role(
    config: CatalogConfig, project: StageProject, name: str, log_group: str
) -> iam_resources.Role:
    extra: dict[str, Any] = {}
    if project.environment:
        extra["RoleName"] = deploy_project_role_name(config, project.environment)
    if project.checkov_skips:
        extra["Metadata"] = checkov_skips(dict(project.checkov_skips))
    return iam_resources.Role(
        f"{project.stage}Role",
        Description=f"CodeBuild role of the pipeline's {project.stage} stage",
        AssumeRolePolicyDocument=make_simple_assume_policy("codebuild.amazonaws.com"),
        Policies=[
            iam_resources.Policy(
                PolicyName=f"{_kebab(project.stage)}-stage",
                PolicyDocument=PolicyDocument(
                    Version=POLICY_VERSION,
                    Statement=[
                        *_build_basics(name, log_group, reports=project.stage == "BuildAndTest"),
                        *project.statements,
                    ],
                ),
            )
        ],
        **extra,
    )


def _build_basics(project_name: str, log_group: str, *, reports: bool) -> list[Statement]:
    """What every CodeBuild project needs: its logs, the pipeline's artifacts and key."""
    log_streams = Sub(
        f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:"
        f"log-group:{log_group}:log-stream:*"
    )
    basics = [
        statement([logs.CreateLogStream, logs.PutLogEvents], [log_streams], sid="OwnLogs"),
        *_artifact_statements(),
    ]
    if reports:
        report_groups = Sub(
            f"arn:${{AWS::Partition}}:codebuild:${{AWS::Region}}:${{AWS::AccountId}}:"
            f"report-group/{project_name}-{REPORT_GROUP}"
        )
        basics.append(
            statement(
                [
                    codebuild_actions.CreateReportGroup,
                    codebuild_actions.CreateReport,
                    codebuild_actions.UpdateReport,
                    codebuild_actions.BatchPutTestCases,
                ],
                [report_groups],
                sid="TestReports",
            )
        )
    return basics


# -- the pipeline ----------------------------------------------------------------------------


def _add_pipeline(template: Template, config: CatalogConfig, projects: list[StageProject]) -> None:
    template.add_resource(_pipeline_role(projects))
    name = f"{config.catalog['resource_prefix']}-catalog-release"
    template.add_resource(
        codepipeline.Pipeline(
            "Pipeline",
            Name=name,
            PipelineType="V2",
            ExecutionMode="QUEUED",
            RoleArn=GetAtt("PipelineRole", "Arn"),
            ArtifactStore=codepipeline.ArtifactStore(
                Type="S3",
                Location=Ref("PipelineArtifactBucket"),
                EncryptionKey=codepipeline.EncryptionKey(
                    Type="KMS", Id=GetAtt("PipelineKey", "Arn")
                ),
            ),
            Stages=_stages(config, projects),
            Triggers=[
                codepipeline.PipelineTriggerDeclaration(
                    ProviderType="CodeStarSourceConnection",
                    GitConfiguration=codepipeline.GitConfiguration(
                        SourceActionName=SOURCE_ACTION,
                        Push=[
                            codepipeline.GitPushFilter(
                                Branches=codepipeline.GitBranchFilterCriteria(
                                    Includes=[Ref("BranchName")]
                                )
                            )
                        ],
                    ),
                )
            ],
        )
    )
    template.add_output(Output("PipelineName", Value=Ref("Pipeline"), Description="The pipeline"))


def _artifact_statements() -> list[Statement]:
    """What every stage (the pipeline and each CodeBuild project) needs of the artifact store."""
    return [
        statement(
            [s3.GetObject, s3.PutObject],
            [Sub("${PipelineArtifactBucket.Arn}/*")],
            sid="PipelineArtifacts",
        ),
        statement(
            [kms_actions.Decrypt, kms_actions.GenerateDataKey],
            [GetAtt("PipelineKey", "Arn")],
            sid="PipelineKey",
        ),
    ]


def _pipeline_role(projects: list[StageProject]) -> iam_resources.Role:
    project_arns = [GetAtt(project.logical, "Arn") for project in projects]
    statements = [
        *_artifact_statements(),
        # Connections are named codeconnections:... since 2024 and codestar-connections:...
        # before; IAM accepts either prefix for either ARN, so both are granted on the one ARN.
        statement(
            [codeconnections.UseConnection, codestar_connections.UseConnection],
            [Ref("ConnectionArn")],
            sid="ReadRepository",
        ),
        statement(
            [codebuild_actions.StartBuild, codebuild_actions.BatchGetBuilds],
            project_arns,
            sid="RunStages",
        ),
        statement([sns.Publish], [Ref("PlatformTopic")], sid="AskForApproval"),
    ]
    return iam_resources.Role(
        "PipelineRole",
        Description="CodePipeline's role: artifacts, the connection, the stages' builds",
        AssumeRolePolicyDocument=make_simple_assume_policy("codepipeline.amazonaws.com"),
        Policies=[
            iam_resources.Policy(
                PolicyName="run-pipeline",
                PolicyDocument=PolicyDocument(Version=POLICY_VERSION, Statement=statements),
            )
        ],
    )


def _stages(config: CatalogConfig, projects: list[StageProject]) -> list[codepipeline.Stages]:
    by_stage = {project.stage: project for project in projects}
    stages = []
    for name in stage_names(config):
        if name == SOURCE_ACTION:
            stages.append(codepipeline.Stages(Name=name, Actions=[_source_action()]))
        elif name == "Approve":
            stages.append(codepipeline.Stages(Name=name, Actions=[_approval_action(config)]))
        else:
            stages.append(codepipeline.Stages(Name=name, Actions=[_build_action(by_stage[name])]))
    return stages


def _source_action() -> codepipeline.Actions:
    return codepipeline.Actions(
        Name=SOURCE_ACTION,
        ActionTypeId=codepipeline.ActionTypeId(
            Category="Source", Owner="AWS", Provider="CodeStarSourceConnection", Version="1"
        ),
        Configuration={
            "ConnectionArn": Ref("ConnectionArn"),
            "FullRepositoryId": Ref("FullRepositoryId"),
            "BranchName": Ref("BranchName"),
            "OutputArtifactFormat": "CODE_ZIP",
        },
        OutputArtifacts=[codepipeline.OutputArtifacts(Name=SOURCE_OUTPUT)],
        RunOrder=1,
    )


def _build_action(project: StageProject) -> codepipeline.Actions:
    first = project.stage == "BuildAndTest"
    action = codepipeline.Actions(
        Name=project.stage,
        ActionTypeId=codepipeline.ActionTypeId(
            Category="Build", Owner="AWS", Provider="CodeBuild", Version="1"
        ),
        Configuration={"ProjectName": Ref(project.logical)},
        InputArtifacts=[codepipeline.InputArtifacts(Name=SOURCE_OUTPUT if first else BUILD_OUTPUT)],
        RunOrder=1,
    )
    if first:
        # The checkout and dist/ together: the later stages publish and launch exactly this build.
        action.OutputArtifacts = [codepipeline.OutputArtifacts(Name=BUILD_OUTPUT)]
    return action


def _approval_action(config: CatalogConfig) -> codepipeline.Actions:
    last = config.environment_names[-1]
    return codepipeline.Actions(
        Name="Approve",
        ActionTypeId=codepipeline.ActionTypeId(
            Category="Approval", Owner="AWS", Provider="Manual", Version="1"
        ),
        Configuration={
            "NotificationArn": Ref("PlatformTopic"),
            "CustomData": f"Approve to deploy this release to {last}: every earlier "
            "environment is deployed and its checks passed.",
        },
        RunOrder=1,
    )


def _add_failure_rule(template: Template) -> None:
    pipeline_arn = Sub(
        "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:${Pipeline}"
    )
    template.add_resource(
        events_resources.Rule(
            "PipelineFailedRule",
            Description="A failed release execution notifies the on-call topic",
            State="ENABLED",
            EventPattern={
                "source": ["aws.codepipeline"],
                "detail-type": ["CodePipeline Pipeline Execution State Change"],
                "resources": [pipeline_arn],
                "detail": {"state": ["FAILED"]},
            },
            Targets=[events_resources.Target(Id="on-call", Arn=Ref("OnCallTopic"))],
        )
    )
