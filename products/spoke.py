"""The spoke stack (dist/infra/spoke.json), deployed once in every account an environment uses.

It holds the Service Catalog launch role (the LAUNCH constraint names it, so it must exist in
every launching account) and the deploy role the pipeline's deploy projects assume: exactly the
deploy permissions of products/permissions.py, on the pipeline account's portfolio and products.
`python build.py bootstrap --spoke ACCOUNT` deploys it; docs/pipeline.md shows the StackSets way.
"""

from __future__ import annotations

from awacs.aws import Allow, PolicyDocument, Principal, Statement
from awacs.helpers.trust import make_simple_assume_policy
from awacs.sts import AssumeRole
from troposphere import GetAtt, Output, Parameter, Ref, Split, Template
from troposphere import iam as iam_resources

from catalog.config import CatalogConfig
from products.launch_role import launch_statements
from products.permissions import DEPLOY, ScopeValues, policy_statements

POLICY_VERSION = "2012-10-17"
ACCOUNT_PATTERN = r"^[0-9]{12}$"
_ROLE_ARN = r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=.@/-]{1,64}"
DEPLOY_ROLES_PATTERN = rf"^{_ROLE_ARN}(,{_ROLE_ARN})*$"


def build_spoke_template(config: CatalogConfig) -> Template:
    template = Template()
    template.set_version("2010-09-09")
    template.set_description(
        "On-call Tools Catalog spoke account: Service Catalog launch role and the pipeline's "
        "deploy role"
    )
    _add_parameters(template)
    if "local_role_name" in config.portfolio.get("launch_role", {}):
        _add_launch_role(template, config)
    _add_deploy_role(template, config)
    return template


def _add_parameters(template: Template) -> None:
    template.add_parameter(
        Parameter(
            "PipelineAccountId",
            Type="String",
            AllowedPattern=ACCOUNT_PATTERN,
            ConstraintDescription="must be the 12-digit id of the account the pipeline runs in",
            Description="The account of the release pipeline, which owns the portfolio.",
        )
    )
    template.add_parameter(
        Parameter(
            "PipelineDeployRoleArns",
            # A String split in the trust policy, not a CommaDelimitedList: AllowedPattern then
            # checks the whole value, and every element must be a role of the pipeline account.
            Type="String",
            AllowedPattern=DEPLOY_ROLES_PATTERN,
            ConstraintDescription="must be one or more IAM role ARNs separated by commas, like "
            "arn:aws:iam::111122223333:role/oncall-pipeline-deploy-prod",
            Description="The pipeline's deploy project roles allowed in (one per environment "
            "of this account), separated by commas.",
        )
    )


def _add_launch_role(template: Template, config: CatalogConfig) -> None:
    template.add_resource(
        iam_resources.Role(
            "LaunchRole",
            RoleName=config.portfolio["launch_role"]["local_role_name"],
            Description="Service Catalog launch role: creates the on-call tools' resources",
            AssumeRolePolicyDocument=make_simple_assume_policy("servicecatalog.amazonaws.com"),
            Policies=[
                iam_resources.Policy(
                    PolicyName="launch-on-call-tools",
                    PolicyDocument=PolicyDocument(
                        Version=POLICY_VERSION, Statement=launch_statements(config)
                    ),
                )
            ],
        )
    )
    template.add_output(
        Output("LaunchRoleArn", Value=GetAtt("LaunchRole", "Arn"), Description="Launch role")
    )


def _add_deploy_role(template: Template, config: CatalogConfig) -> None:
    trust = PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("AWS", Split(",", Ref("PipelineDeployRoleArns"))),
                Action=[AssumeRole],
            )
        ],
    )
    values = ScopeValues(regions=config.portfolio["regions"], account="${PipelineAccountId}")
    template.add_resource(
        iam_resources.Role(
            "DeployRole",
            RoleName=config.pipeline.deploy_role_name,
            Description="The release pipeline's deploy stage: accepts the portfolio share and "
            "launches the on-call tools",
            AssumeRolePolicyDocument=trust,
            Policies=[
                iam_resources.Policy(
                    PolicyName="deploy-on-call-tools",
                    PolicyDocument=PolicyDocument(
                        Version=POLICY_VERSION, Statement=policy_statements(DEPLOY, values)
                    ),
                )
            ],
        )
    )
    template.add_output(
        Output(
            "DeployRoleArn",
            Value=GetAtt("DeployRole", "Arn"),
            Description="The pipeline's deploy stage assumes this role",
        )
    )
