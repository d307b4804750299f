"""The deploy stage (`build.py deploy --env ENV`): launch every product for one environment, in
the pipeline's own account or in the environment's account (catalog.yaml
environments.<env>.account).

For another account, as a platform team does it by hand (AWS Service Catalog's "sharing and
importing portfolios"): assume the deploy role the spoke stack created there, import the
portfolio (AcceptPortfolioShare for an account share; a share through AWS Organizations is
imported automatically: PortfolioShareDetail.Accepted "is always set to true" for it), associate
the deploy role with the imported portfolio (an imported portfolio's principals are the
recipient's own: the owner's do not carry over for account shares), then launch each product
through the imported portfolio's launch path, whose constraints stay the owner's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from catalog.config import DeployTarget, PipelineSettings
from portfolio.aws import AwsClients, error_code
from portfolio.current import find_portfolio_id, paginate
from portfolio.launch import LaunchResult, launch
from portfolio.pipeline.errors import PipelineError
from portfolio.workflow import BuiltCatalog

Echo = Callable[[str], None]
_SESSION_NAME = "oncall-catalog-deploy"
_ACCESS_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


class DeployError(PipelineError):
    """The deploy stage cannot reach or prepare the environment's account."""


@dataclass(frozen=True)
class DeployResult:
    environment: str
    account: str
    launches: tuple[LaunchResult, ...]


class AssumedRoleClients:
    """Clients acting as a role assumed in another account (same endpoint as the pipeline's)."""

    def __init__(self, clients: AwsClients, credentials: dict[str, Any], role_arn: str) -> None:
        self.role_arn = role_arn
        self._endpoint_url = clients.target.endpoint_url
        self._hooks = clients.hooks  # the pipeline's --debug and call recording see these too
        self._session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        if (service, region) not in self._clients:
            self._clients[(service, region)] = self._session.client(
                service,
                region_name=region,
                endpoint_url=self._endpoint_url,
                config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 8}),
            )
            for hook in self._hooks:
                self._clients[(service, region)].meta.events.register("before-call.*.*", hook)
        return self._clients[(service, region)]


def deploy_environment(
    clients: AwsClients, built: BuiltCatalog, environment: str, echo: Echo
) -> DeployResult:
    """Launch every product of BUILT for ENVIRONMENT in its account and regions."""
    target = built.config.deploy_target(environment)
    own_account = clients.account_id(target.regions[0])
    if target.account is None or target.account == own_account:
        echo(f"{environment}: account {own_account} (the pipeline's own)")
        launches = _launch_all(
            lambda region: clients.client("servicecatalog", region), built, target, {}, echo
        )
        return DeployResult(environment, own_account, launches)
    spoke = assume_deploy_role(clients, built.config.pipeline, target, echo)
    product_ids = {
        region: import_portfolio(clients, spoke, built, target, region=region, echo=echo)
        for region in target.regions
    }
    launches = _launch_all(
        lambda region: spoke.client("servicecatalog", region), built, target, product_ids, echo
    )
    return DeployResult(environment, target.account, launches)


def assume_deploy_role(
    clients: AwsClients, settings: PipelineSettings, target: DeployTarget, echo: Echo
) -> AssumedRoleClients:
    assert target.account is not None
    region = target.regions[0]
    role_arn = settings.deploy_role_arn(target.account)
    try:
        answer = clients.client("sts", region).assume_role(
            RoleArn=role_arn, RoleSessionName=f"{_SESSION_NAME}-{target.environment}"
        )
    except botocore.exceptions.ClientError as error:
        raise _missing_role(target, settings, error_code(error)) from error
    spoke = AssumedRoleClients(clients, answer["Credentials"], role_arn)
    _check_role_exists(spoke, settings, target)
    echo(f"{target.environment}: account {target.account} as {role_arn}")
    return spoke


def _check_role_exists(
    spoke: AssumedRoleClients, settings: PipelineSettings, target: DeployTarget
) -> None:
    # AWS refuses AssumeRole for a role that does not exist (AccessDenied); an emulator may
    # not, so the stage also asks the account for its own role before doing anything there.
    try:
        spoke.client("iam", target.regions[0]).get_role(RoleName=settings.deploy_role_name)
    except botocore.exceptions.ClientError as error:
        # A role without iam:GetRole on itself exists (AssumeRole succeeded on AWS): go on.
        if error_code(error) not in _ACCESS_DENIED:
            raise _missing_role(target, settings, error_code(error)) from error


def _missing_role(target: DeployTarget, settings: PipelineSettings, code: str) -> DeployError:
    return DeployError(
        f"{target.environment}: account {target.account} has no usable deploy role "
        f"{settings.deploy_role_name} ({code}); deploy the spoke stack there first "
        f"(build.py bootstrap --spoke {target.account})"
    )


def import_portfolio(
    clients: AwsClients,
    spoke: AssumedRoleClients,
    built: BuiltCatalog,
    target: DeployTarget,
    *,
    region: str,
    echo: Echo,
) -> dict[str, str]:
    """Import the shared portfolio into TARGET's account; the shared products' ids by name."""
    owner_sc = clients.client("servicecatalog", region)
    name = built.desired.display_name
    portfolio_id = find_portfolio_id(owner_sc, name)
    if portfolio_id is None:
        raise DeployError(f"{region}: portfolio {name!r} is not published; run publish first")
    spoke_sc = spoke.client("servicecatalog", region)
    share_type = _share_type(built)
    if share_type == "IMPORTED":
        _accept(spoke_sc, portfolio_id, target, region, spoke)
    _associate(spoke_sc, portfolio_id, spoke, target, region)
    echo(
        f"  {region}: portfolio {portfolio_id} imported ({share_type}), {spoke.role_arn} associated"
    )
    return _shared_product_ids(spoke_sc, portfolio_id)


def _share_type(built: BuiltCatalog) -> str:
    """How publish shared the portfolio with the environment accounts (portfolio/desired.py):
    through the organization when one is configured (imported automatically), else one
    account share each (IMPORTED: accepted here)."""
    organization = built.config.portfolio.get("shares", {}).get("organization_id")
    return "AWS_ORGANIZATIONS" if organization else "IMPORTED"


def _accept(
    spoke_sc: Any, portfolio_id: str, target: DeployTarget, region: str, spoke: AssumedRoleClients
) -> None:
    accepted = paginate(spoke_sc, "list_accepted_portfolio_shares", "PortfolioDetails")
    if any(p["Id"] == portfolio_id for p in accepted):
        return
    try:
        spoke_sc.accept_portfolio_share(PortfolioId=portfolio_id, PortfolioShareType="IMPORTED")
    except botocore.exceptions.ClientError as error:
        raise DeployError(
            f"{target.environment}: {region}: account {target.account} cannot accept the share "
            f"of portfolio {portfolio_id} as {spoke.role_arn} ({error_code(error)}): publish "
            "shares it with every environment account; has it run since the account was added?"
        ) from error


def _associate(
    spoke_sc: Any, portfolio_id: str, spoke: AssumedRoleClients, target: DeployTarget, region: str
) -> None:
    try:
        spoke_sc.associate_principal_with_portfolio(
            PortfolioId=portfolio_id, PrincipalARN=spoke.role_arn, PrincipalType="IAM"
        )
    except botocore.exceptions.ClientError as error:
        raise DeployError(
            f"{target.environment}: {region}: account {target.account} has not imported "
            f"portfolio {portfolio_id}; {spoke.role_arn} cannot be associated: {error_code(error)}"
        ) from error


def _shared_product_ids(spoke_sc: Any, portfolio_id: str) -> dict[str, str]:
    details = paginate(
        spoke_sc, "search_products_as_admin", "ProductViewDetails", PortfolioId=portfolio_id
    )
    return {d["ProductViewSummary"]["Name"]: d["ProductViewSummary"]["ProductId"] for d in details}


def _launch_all(
    service_catalog: Callable[[str], Any],
    built: BuiltCatalog,
    target: DeployTarget,
    product_ids: dict[str, dict[str, str]],
    echo: Echo,
) -> tuple[LaunchResult, ...]:
    results = []
    for region in target.regions:
        for product in built.desired.products:
            shared_id = product_ids.get(region, {}).get(product)
            if product_ids and shared_id is None:
                raise DeployError(
                    f"{target.environment}: {region}: {product} is not in the imported portfolio"
                )
            results.append(
                launch(
                    service_catalog(region),
                    region,
                    product,
                    target.environment,
                    parameters=built.config.launch_parameters(product, target.environment),
                    progress=lambda line: echo(f"  {line}"),
                    portfolio=built.desired.display_name,
                    product_id=shared_id,
                )
            )
    return tuple(results)
