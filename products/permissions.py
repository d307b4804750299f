"""The AWS API calls publish and deploy make, declared once.

The pipeline's publish and deploy roles (dist/infra/pipeline.json), the spoke account's deploy
role (dist/infra/spoke.json) and the table in docs/publishing.md are all generated from these
two lists. tests/products/test_permissions_recorded.py runs publish and launch against localcloud,
records every call the clients make and fails when one has no permission here.

Resources are as tight as IAM allows: the Service Authorization Reference says which actions
accept a resource (a portfolio, a product, the artifact bucket's objects); those that accept none
are granted on "*" (Scope.ANY), and a test checks each scope against that reference.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from awacs import iam, s3, servicecatalog
from awacs.aws import Action, Statement
from troposphere import Sub

from products.iam import statement


class Scope(enum.Enum):
    """What an action may touch; the value is the ARN's resource part (after the account)."""

    PORTFOLIO = "catalog:{region}:{account}:portfolio/*"
    PRODUCT = "catalog:{region}:{account}:product/*"
    ARTIFACT_BUCKET = "s3:::{bucket}"
    ARTIFACT_OBJECTS = "s3:::{bucket}/*"
    LAUNCH_ROLE = "iam::{account}:role/{launch_role}"
    ANY = "*"


@dataclass(frozen=True)
class Permission:
    """One IAM action, the resources it is granted on, why the code needs it, and the API
    operations (service:Operation) that need it when their names differ from the action's."""

    action: Action
    scope: Scope
    why: str
    operations: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.action.prefix}:{self.action.action}"

    def covers(self) -> tuple[str, ...]:
        """The API operations this permission authorises."""
        return self.operations or (self.name,)


def _sc(action: Action, scope: Scope, why: str) -> Permission:
    return Permission(action, scope, why)


# `python build.py publish`: reads the region's catalog, uploads, creates and updates.
PUBLISH: tuple[Permission, ...] = (
    Permission(
        s3.ListBucket,
        Scope.ARTIFACT_BUCKET,
        "list the artifacts already uploaded (one listing instead of a check per object)",
        ("s3:HeadBucket", "s3:ListObjectsV2"),
    ),
    Permission(
        s3.GetObject,
        Scope.ARTIFACT_OBJECTS,
        "skip uploads already there; Service Catalog reads templates as the caller",
        ("s3:HeadObject",),
    ),
    Permission(s3.PutObject, Scope.ARTIFACT_OBJECTS, "upload templates and Lambda packages"),
    Permission(
        iam.PassRole,
        Scope.LAUNCH_ROLE,
        "a LAUNCH constraint hands the launch role to Service Catalog",
        ("servicecatalog:CreateConstraint",),
    ),
    _sc(servicecatalog.ListPortfolios, Scope.ANY, "find the portfolio by name"),
    _sc(servicecatalog.CreatePortfolio, Scope.PORTFOLIO, "create the portfolio"),
    _sc(servicecatalog.DescribePortfolio, Scope.PORTFOLIO, "read its settings and tags"),
    _sc(servicecatalog.UpdatePortfolio, Scope.PORTFOLIO, "change its settings and tags"),
    _sc(servicecatalog.SearchProductsAsAdmin, Scope.ANY, "list the portfolio's products"),
    _sc(servicecatalog.CreateProduct, Scope.PRODUCT, "create a product with its first version"),
    _sc(servicecatalog.DescribeProductAsAdmin, Scope.PRODUCT, "read a product"),
    _sc(servicecatalog.UpdateProduct, Scope.PRODUCT, "change a product's metadata"),
    _sc(servicecatalog.AssociateProductWithPortfolio, Scope.ANY, "put a product in it"),
    _sc(servicecatalog.ListProvisioningArtifacts, Scope.PRODUCT, "list a product's versions"),
    _sc(servicecatalog.DescribeProvisioningArtifact, Scope.PRODUCT, "read a version"),
    _sc(servicecatalog.CreateProvisioningArtifact, Scope.PRODUCT, "add a version"),
    _sc(
        servicecatalog.UpdateProvisioningArtifact,
        Scope.PRODUCT,
        "set DEFAULT, deprecate, deactivate (retention)",
    ),
    _sc(servicecatalog.DeleteProvisioningArtifact, Scope.PRODUCT, "remove a failed version"),
    _sc(servicecatalog.ListConstraintsForPortfolio, Scope.ANY, "read constraints"),
    _sc(servicecatalog.DescribeConstraint, Scope.ANY, "read a constraint's parameters"),
    _sc(servicecatalog.CreateConstraint, Scope.PRODUCT, "LAUNCH, TEMPLATE constraints"),
    _sc(servicecatalog.UpdateConstraint, Scope.ANY, "change a constraint's description"),
    _sc(servicecatalog.DeleteConstraint, Scope.ANY, "replace a changed constraint"),
    _sc(servicecatalog.ListPrincipalsForPortfolio, Scope.PORTFOLIO, "read its principals"),
    _sc(servicecatalog.AssociatePrincipalWithPortfolio, Scope.PORTFOLIO, "add a principal"),
    _sc(
        servicecatalog.DisassociatePrincipalFromPortfolio,
        Scope.PORTFOLIO,
        "remove a principal no longer configured",
    ),
    _sc(servicecatalog.ListTagOptions, Scope.ANY, "find TagOptions"),
    _sc(servicecatalog.CreateTagOption, Scope.ANY, "create a TagOption"),
    _sc(servicecatalog.AssociateTagOptionWithResource, Scope.ANY, "attach a TagOption"),
    _sc(servicecatalog.DescribePortfolioShares, Scope.PORTFOLIO, "read its shares"),
    _sc(servicecatalog.CreatePortfolioShare, Scope.PORTFOLIO, "share with accounts, OUs, org"),
    _sc(servicecatalog.UpdatePortfolioShare, Scope.PORTFOLIO, "change a share's settings"),
    _sc(servicecatalog.DescribePortfolioShareStatus, Scope.ANY, "wait for an org share"),
    _sc(
        servicecatalog.GetAWSOrganizationsAccessStatus,
        Scope.ANY,
        "organization shares need Organizations access",
    ),
)

# `python build.py deploy --env ENV` and `launch`: make the portfolio usable in the account
# (accept the share, associate the deploy role) and provision or update every product.
DEPLOY: tuple[Permission, ...] = (
    _sc(servicecatalog.ListAcceptedPortfolioShares, Scope.ANY, "is the share accepted?"),
    _sc(servicecatalog.AcceptPortfolioShare, Scope.PORTFOLIO, "accept the portfolio share"),
    _sc(servicecatalog.DescribePortfolio, Scope.PORTFOLIO, "read the imported portfolio"),
    _sc(servicecatalog.ListPortfolios, Scope.ANY, "find the portfolio by name"),
    _sc(
        servicecatalog.AssociatePrincipalWithPortfolio,
        Scope.PORTFOLIO,
        "let the deploy role launch from it",
    ),
    _sc(servicecatalog.ListPrincipalsForPortfolio, Scope.PORTFOLIO, "is it associated?"),
    _sc(servicecatalog.SearchProductsAsAdmin, Scope.ANY, "find the product in the portfolio"),
    _sc(servicecatalog.ListProvisioningArtifacts, Scope.PRODUCT, "find the DEFAULT version"),
    _sc(servicecatalog.ListLaunchPaths, Scope.PRODUCT, "the portfolio to launch through"),
    _sc(
        servicecatalog.DescribeProvisioningParameters,
        Scope.PRODUCT,
        "check the parameters before launching",
    ),
    _sc(servicecatalog.DescribeProvisionedProduct, Scope.ANY, "launch or update?"),
    _sc(servicecatalog.ProvisionProduct, Scope.PRODUCT, "the first launch"),
    _sc(servicecatalog.UpdateProvisionedProduct, Scope.ANY, "later launches"),
    _sc(
        servicecatalog.TerminateProvisionedProduct,
        Scope.ANY,
        "end a first launch that failed, to launch it again",
    ),
    _sc(servicecatalog.DescribeRecord, Scope.ANY, "wait for the launch to finish"),
)

# `deploy --env ENV` for an environment in another account, in the pipeline account itself: find
# the portfolio's id (then assume the account's deploy role, which has DEPLOY there).
DEPLOY_FROM_PIPELINE_ACCOUNT: tuple[Permission, ...] = (
    _sc(servicecatalog.ListPortfolios, Scope.ANY, "find the portfolio to import"),
)

# Calls no IAM permission governs (any authenticated caller may make them).
UNGOVERNED_OPERATIONS = frozenset({"sts:GetCallerIdentity"})


@dataclass(frozen=True)
class ScopeValues:
    """What the scopes' placeholders become in one template (strings or Fn::Sub variables)."""

    regions: Sequence[str]
    account: str = "${AWS::AccountId}"
    bucket_prefix: str = ""
    launch_role: str = ""

    def arns(self, scope: Scope) -> list[str]:
        if scope is Scope.ANY:
            return ["*"]
        regions = self.regions if "{region}" in scope.value else ["-"]
        arns = []
        for region in regions:
            bucket = f"{self.bucket_prefix}-{region}"
            resource = scope.value.format(
                region=region, account=self.account, bucket=bucket, launch_role=self.launch_role
            )
            arns.append(f"arn:${{AWS::Partition}}:{resource}")
        return sorted(set(arns))


def policy_statements(permissions: Iterable[Permission], values: ScopeValues) -> list[Statement]:
    """One statement per scope, its actions sorted: the policy a role gets for PERMISSIONS."""
    by_scope: dict[Scope, dict[str, Action]] = {}
    for permission in permissions:
        by_scope.setdefault(permission.scope, {})[permission.name] = permission.action
    statements = []
    for scope in Scope:
        if scope not in by_scope:
            continue
        actions = [by_scope[scope][name] for name in sorted(by_scope[scope])]
        resources = [Sub(arn) if "${" in arn else arn for arn in values.arns(scope)]
        sid = "".join(part.title() for part in scope.name.split("_"))
        statements.append(statement(actions, resources, sid=sid))
    return statements


def permissions_markdown() -> str:
    """docs/publishing.md's table of what the publish and deploy roles may do, and why."""
    rows = [
        "| role | action | resources | why |",
        "|---|---|---|---|",
    ]
    roles = (
        ("publish", PUBLISH),
        ("deploy", DEPLOY),
        ("deploy, pipeline account, for another account", DEPLOY_FROM_PIPELINE_ACCOUNT),
    )
    for role, permissions in roles:
        for permission in sorted(permissions, key=lambda p: p.name):
            rows.append(
                f"| {role} | `{permission.name}` | {_scope_text(permission.scope)} "
                f"| {permission.why} |"
            )
    return "\n".join(rows) + "\n"


def _scope_text(scope: Scope) -> str:
    texts = {
        Scope.PORTFOLIO: "portfolios of the catalog account",
        Scope.PRODUCT: "products of the catalog account",
        Scope.ARTIFACT_BUCKET: "the artifact buckets",
        Scope.ARTIFACT_OBJECTS: "objects in the artifact buckets",
        Scope.LAUNCH_ROLE: "the launch role",
        Scope.ANY: "`*` (the action takes no resource)",
    }
    return texts[scope]


TABLE_BEGIN = "<!-- permissions table: generated by products/permissions.py, do not edit -->"
TABLE_END = "<!-- end of permissions table -->"


def with_permissions_table(page: str) -> str:
    """PAGE with the text between the table markers replaced by permissions_markdown()."""
    head, found, rest = page.partition(TABLE_BEGIN)
    _, found_end, tail = rest.partition(TABLE_END)
    if not found or not found_end:
        raise ValueError(f"the page lacks the markers {TABLE_BEGIN!r} and {TABLE_END!r}")
    return f"{head}{TABLE_BEGIN}\n{permissions_markdown()}{TABLE_END}{tail}"
