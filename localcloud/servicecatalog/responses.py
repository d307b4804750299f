"""Service Catalog JSON-protocol plumbing: unpack a request, call the model, shape the answer.

Rules live in admin.py and provisioning.py; this module only translates.
"""

from collections.abc import Callable
from typing import Any

from . import copying, share_acceptance
from .admin import AdminBackend
from .entities import Portfolio, Product, tag_list
from .exceptions import InvalidParametersException, ResourceNotFoundException
from .provisioning import Provisioner

Params = dict[str, Any]
Handler = Callable[["CatalogRequest"], dict[str, Any]]
DEFAULT_PAGE_SIZE = 20


class CatalogRequest:
    """One decoded request with the backends of its account and region."""

    def __init__(
        self,
        params: Params,
        admin: AdminBackend,
        provisioner: Provisioner,
        peers: Callable[[], list[AdminBackend]] = list,
        catalog_of: Callable[[str, str], AdminBackend] | None = None,
    ) -> None:
        self.params = params
        self.admin = admin
        self.provisioner = provisioner
        self.peers = peers  # the backends of every account in this region (for shares)
        self.catalog_of = catalog_of or (lambda account, region: admin)  # (account, region)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value


def paginate(
    items: list[Any], request: CatalogRequest, marker_field: str = "NextPageToken"
) -> tuple[list[Any], dict[str, str]]:
    """A page of items and the continuation token entry (an offset, opaque to clients)."""
    size = request.get("PageSize") or DEFAULT_PAGE_SIZE
    token = request.get("PageToken", "0")
    if not str(token).isdigit():
        raise InvalidParametersException(f"PageToken {token!r} is not valid.")
    start = int(token)
    page = items[start : start + size]
    more = start + size < len(items)
    return page, ({marker_field: str(start + size)} if more else {})


# ---- portfolios -----------------------------------------------------------------------------
def create_portfolio(request: CatalogRequest) -> dict[str, Any]:
    portfolio = request.admin.create_portfolio(
        display_name=request.params["DisplayName"],
        provider_name=request.params["ProviderName"],
        description=request.get("Description"),
        tags={tag["Key"]: tag["Value"] for tag in request.get("Tags", [])},
        token=request.params["IdempotencyToken"],
    )
    return {"PortfolioDetail": portfolio.detail(), "Tags": tag_list(portfolio.tags)}


def describe_portfolio(request: CatalogRequest) -> dict[str, Any]:
    portfolio = request.admin.portfolio(request.params["Id"])
    return {
        "PortfolioDetail": portfolio.detail(),
        "Tags": tag_list(portfolio.tags),
        "TagOptions": [option.detail() for option in request.admin.tag_options_of(portfolio)],
        "Budgets": [],
    }


def update_portfolio(request: CatalogRequest) -> dict[str, Any]:
    portfolio = request.admin.update_portfolio(request.params["Id"], request.params)
    return {"PortfolioDetail": portfolio.detail(), "Tags": tag_list(portfolio.tags)}


def delete_portfolio(request: CatalogRequest) -> dict[str, Any]:
    request.admin.delete_portfolio(request.params["Id"])
    return {}


def list_portfolios(request: CatalogRequest) -> dict[str, Any]:
    portfolios = sorted(request.admin.portfolios.values(), key=lambda p: p.created_time)
    page, token = paginate(portfolios, request)
    return {"PortfolioDetails": [p.detail() for p in page], **token}


def list_portfolios_for_product(request: CatalogRequest) -> dict[str, Any]:
    page, token = paginate(
        request.admin.portfolios_for_product(request.params["ProductId"]), request
    )
    return {"PortfolioDetails": [p.detail() for p in page], **token}


# ---- products -------------------------------------------------------------------------------
def create_product(request: CatalogRequest) -> dict[str, Any]:
    artifact_fields = request.get("ProvisioningArtifactParameters")
    if not artifact_fields:
        raise InvalidParametersException(
            "ProvisioningArtifactParameters are required for CLOUD_FORMATION_TEMPLATE products."
        )
    product = request.admin.create_product(
        request.params, artifact_fields, request.params["IdempotencyToken"]
    )
    first = next(iter(product.artifacts.values()))
    return {
        "ProductViewDetail": product.view_detail(),
        "ProvisioningArtifactDetail": first.detail(),
        "Tags": tag_list(product.tags),
    }


def describe_product_as_admin(request: CatalogRequest) -> dict[str, Any]:
    product = request.admin.product(request.get("Id"), request.get("Name"))
    return {
        "ProductViewDetail": product.view_detail(),
        "ProvisioningArtifactSummaries": [a.summary() for a in product.artifacts.values()],
        "Tags": tag_list(product.tags),
        "TagOptions": [option.detail() for option in request.admin.tag_options_of(product)],
        "Budgets": [],
    }


def describe_product(request: CatalogRequest) -> dict[str, Any]:
    product = request.admin.product(request.get("Id"), request.get("Name"))
    paths = request.provisioner.launch_paths(product)
    return {
        "ProductViewSummary": product.view_summary(),
        "ProvisioningArtifacts": [a.end_user_view() for a in _launchable(product)],
        "Budgets": [],
        "LaunchPaths": [{"Id": path.id, "Name": path.display_name} for path in paths],
    }


def describe_product_view(request: CatalogRequest) -> dict[str, Any]:
    product = request.admin.product(request.params["Id"])
    return {
        "ProductViewSummary": product.view_summary(),
        "ProvisioningArtifacts": [a.end_user_view() for a in _launchable(product)],
    }


def _launchable(product: Product) -> list[Any]:
    # End users see only active, available versions.
    return [a for a in product.artifacts.values() if a.active and a.status == "AVAILABLE"]


def update_product(request: CatalogRequest) -> dict[str, Any]:
    product = request.admin.update_product(request.params["Id"], request.params)
    return {"ProductViewDetail": product.view_detail(), "Tags": tag_list(product.tags)}


def delete_product(request: CatalogRequest) -> dict[str, Any]:
    request.admin.delete_product(request.params["Id"])
    return {}


def _matches_filters(product: Product, filters: dict[str, list[str]]) -> bool:
    for key, wanted in (filters or {}).items():
        if key == "FullTextSearch":
            text = f"{product.name} {product.description} {product.owner}".lower()
            if not all(term.lower() in text for term in wanted):
                return False
        elif key in ("Owner", "ProductType"):
            actual = product.owner if key == "Owner" else product.type
            if actual not in wanted:
                return False
    return True


def _sorted_products(products: list[Product], request: CatalogRequest) -> list[Product]:
    sort_by = request.get("SortBy", "CreationDate")
    keys: dict[str, Callable[[Product], Any]] = {
        "Title": lambda p: p.name,
        "VersionCount": lambda p: len(p.artifacts),
        "CreationDate": lambda p: p.created_time,
    }
    return sorted(products, key=keys[sort_by], reverse=request.get("SortOrder") == "DESCENDING")


def search_products_as_admin(request: CatalogRequest) -> dict[str, Any]:
    products = list(request.admin.products.values())
    if request.get("PortfolioId") in request.admin.imported_from:
        products = request.admin.imported_products(request.params["PortfolioId"])
    elif request.get("PortfolioId"):
        portfolio = request.admin.portfolio(request.params["PortfolioId"])
        products = [p for p in products if p.id in portfolio.product_ids]
    products = [p for p in products if _matches_filters(p, request.get("Filters", {}))]
    page, token = paginate(_sorted_products(products, request), request)
    return {"ProductViewDetails": [p.view_detail() for p in page], **token}


def search_products(request: CatalogRequest) -> dict[str, Any]:
    # End users see products reachable through a portfolio (a launch path).
    imported = [
        product
        for portfolio_id in request.admin.imported_from
        for product in request.admin.imported_products(portfolio_id)
    ]
    products = [
        p
        for p in {p.id: p for p in [*request.admin.products.values(), *imported]}.values()
        if request.provisioner.launch_paths(p) and _matches_filters(p, request.get("Filters", {}))
    ]
    page, token = paginate(_sorted_products(products, request), request)
    return {
        "ProductViewSummaries": [p.view_summary() for p in page],
        "ProductViewAggregations": {},
        **token,
    }


# ---- provisioning artifacts ---------------------------------------------------------------
def create_provisioning_artifact(request: CatalogRequest) -> dict[str, Any]:
    artifact = request.admin.create_provisioning_artifact(
        request.params["ProductId"],
        request.params["Parameters"],
        request.params["IdempotencyToken"],
    )
    return {
        "ProvisioningArtifactDetail": artifact.detail(),
        "Info": {"TemplateUrl": artifact.template_url},
        "Status": artifact.status,
    }


def describe_provisioning_artifact(request: CatalogRequest) -> dict[str, Any]:
    admin = request.admin
    product = admin.product(request.get("ProductId"), request.get("ProductName"))
    artifact = admin.artifact(
        product, request.get("ProvisioningArtifactId"), request.get("ProvisioningArtifactName")
    )
    answer: dict[str, Any] = {
        "ProvisioningArtifactDetail": artifact.detail(),
        "Status": artifact.status,
    }
    if request.get("Verbose"):
        answer["Info"] = {"TemplateUrl": artifact.template_url}
    if request.get("IncludeProvisioningArtifactParameters") and artifact.template is not None:
        answer["ProvisioningArtifactParameters"] = request.provisioner.parameter_summaries(artifact)
    return answer


def list_provisioning_artifacts(request: CatalogRequest) -> dict[str, Any]:
    product = request.admin.product(request.params["ProductId"])
    return {"ProvisioningArtifactDetails": [a.detail() for a in product.artifacts.values()]}


def update_provisioning_artifact(request: CatalogRequest) -> dict[str, Any]:
    artifact = request.admin.update_provisioning_artifact(
        request.params["ProductId"], request.params["ProvisioningArtifactId"], request.params
    )
    return {
        "ProvisioningArtifactDetail": artifact.detail(),
        "Info": {"TemplateUrl": artifact.template_url},
        "Status": artifact.status,
    }


def delete_provisioning_artifact(request: CatalogRequest) -> dict[str, Any]:
    artifact_id = request.params["ProvisioningArtifactId"]
    in_use = request.provisioner.artifact_in_use(artifact_id)
    request.admin.delete_provisioning_artifact(request.params["ProductId"], artifact_id, in_use)
    return {}


# ---- associations, constraints, principals ------------------------------------------------
def associate_product_with_portfolio(request: CatalogRequest) -> dict[str, Any]:
    request.admin.associate_product(request.params["ProductId"], request.params["PortfolioId"])
    return {}


def disassociate_product_from_portfolio(request: CatalogRequest) -> dict[str, Any]:
    request.admin.disassociate_product(request.params["ProductId"], request.params["PortfolioId"])
    return {}


def _constraint_answer(constraint: Any) -> dict[str, Any]:
    return {
        "ConstraintDetail": constraint.detail(),
        "ConstraintParameters": constraint.parameters,
        "Status": "AVAILABLE",
    }


def create_constraint(request: CatalogRequest) -> dict[str, Any]:
    constraint = request.admin.create_constraint(request.params, request.params["IdempotencyToken"])
    return _constraint_answer(constraint)


def describe_constraint(request: CatalogRequest) -> dict[str, Any]:
    return _constraint_answer(request.admin.constraint(request.params["Id"]))


def update_constraint(request: CatalogRequest) -> dict[str, Any]:
    constraint = request.admin.update_constraint(
        request.params["Id"], request.get("Description"), request.get("Parameters")
    )
    return _constraint_answer(constraint)


def delete_constraint(request: CatalogRequest) -> dict[str, Any]:
    request.admin.delete_constraint(request.params["Id"])
    return {}


def list_constraints_for_portfolio(request: CatalogRequest) -> dict[str, Any]:
    constraints = request.admin.constraints_for(
        request.params["PortfolioId"], request.get("ProductId")
    )
    page, token = paginate(constraints, request)
    return {"ConstraintDetails": [c.detail() for c in page], **token}


def associate_principal_with_portfolio(request: CatalogRequest) -> dict[str, Any]:
    request.admin.associate_principal(
        request.params["PortfolioId"],
        request.params["PrincipalARN"],
        request.params["PrincipalType"],
    )
    return {}


def disassociate_principal_from_portfolio(request: CatalogRequest) -> dict[str, Any]:
    request.admin.disassociate_principal(
        request.params["PortfolioId"], request.params["PrincipalARN"]
    )
    return {}


def list_principals_for_portfolio(request: CatalogRequest) -> dict[str, Any]:
    associated = request.admin.principals_of(request.params["PortfolioId"])
    principals = [{"PrincipalARN": arn, "PrincipalType": kind} for arn, kind in associated.items()]
    page, token = paginate(principals, request)
    return {"Principals": page, **token}


# ---- TagOptions -----------------------------------------------------------------------------
def create_tag_option(request: CatalogRequest) -> dict[str, Any]:
    option = request.admin.create_tag_option(request.params["Key"], request.params["Value"])
    return {"TagOptionDetail": option.detail()}


def describe_tag_option(request: CatalogRequest) -> dict[str, Any]:
    return {"TagOptionDetail": request.admin.tag_option(request.params["Id"]).detail()}


def update_tag_option(request: CatalogRequest) -> dict[str, Any]:
    option = request.admin.update_tag_option(
        request.params["Id"], request.get("Value"), request.get("Active")
    )
    return {"TagOptionDetail": option.detail()}


def delete_tag_option(request: CatalogRequest) -> dict[str, Any]:
    request.admin.delete_tag_option(request.params["Id"])
    return {}


def list_tag_options(request: CatalogRequest) -> dict[str, Any]:
    filters = request.get("Filters", {})
    options = [
        option
        for option in request.admin.tag_options.values()
        if all(
            filters.get(name) is None or getattr(option, name.lower()) == filters[name]
            for name in ("Key", "Value", "Active")
        )
    ]
    page, token = paginate(options, request, marker_field="PageToken")
    return {"TagOptionDetails": [option.detail() for option in page], **token}


def associate_tag_option_with_resource(request: CatalogRequest) -> dict[str, Any]:
    request.admin.associate_tag_option(request.params["ResourceId"], request.params["TagOptionId"])
    return {}


def disassociate_tag_option_from_resource(request: CatalogRequest) -> dict[str, Any]:
    request.admin.disassociate_tag_option(
        request.params["ResourceId"], request.params["TagOptionId"]
    )
    return {}


def _resource_detail(holder: Portfolio | Product) -> dict[str, Any]:
    detail = {
        "Id": holder.id,
        "ARN": holder.arn,
        "Name": holder.display_name if isinstance(holder, Portfolio) else holder.name,
        "Description": holder.description,
        "CreatedTime": holder.created_time,
    }
    return {key: value for key, value in detail.items() if value is not None}


def list_resources_for_tag_option(request: CatalogRequest) -> dict[str, Any]:
    holders = request.admin.resources_for_tag_option(
        request.params["TagOptionId"], request.get("ResourceType")
    )
    page, token = paginate(holders, request, marker_field="PageToken")
    return {"ResourceDetails": [_resource_detail(h) for h in page], **token}


# ---- shares ---------------------------------------------------------------------------------
def _token_entry(token: str | None) -> dict[str, str]:
    return {"PortfolioShareToken": token} if token else {}


def create_portfolio_share(request: CatalogRequest) -> dict[str, Any]:
    token = request.admin.create_share(
        request.params["PortfolioId"],
        request.get("AccountId"),
        request.get("OrganizationNode"),
        bool(request.get("ShareTagOptions", False)),
        bool(request.get("SharePrincipals", False)),
    )
    return _token_entry(token)


def update_portfolio_share(request: CatalogRequest) -> dict[str, Any]:
    token, status = request.admin.update_share(
        request.params["PortfolioId"],
        request.get("AccountId"),
        request.get("OrganizationNode"),
        request.get("ShareTagOptions"),
        request.get("SharePrincipals"),
    )
    return {**_token_entry(token), "Status": status}


def delete_portfolio_share(request: CatalogRequest) -> dict[str, Any]:
    token = request.admin.delete_share(
        request.params["PortfolioId"], request.get("AccountId"), request.get("OrganizationNode")
    )
    return _token_entry(token)


def describe_portfolio_share_status(request: CatalogRequest) -> dict[str, Any]:
    return request.admin.share_status(request.params["PortfolioShareToken"]).status_document()


def describe_portfolio_shares(request: CatalogRequest) -> dict[str, Any]:
    shares = request.admin.shares_of(request.params["PortfolioId"], request.params["Type"])
    page, token = paginate(shares, request)
    return {"PortfolioShareDetails": [share.detail() for share in page], **token}


def list_portfolio_access(request: CatalogRequest) -> dict[str, Any]:
    shares = request.admin.shares_of(request.params["PortfolioId"], "ACCOUNT")
    page, token = paginate([share.principal_id for share in shares], request)
    return {"AccountIds": page, **token}


def list_organization_portfolio_access(request: CatalogRequest) -> dict[str, Any]:
    node_type = request.params["OrganizationNodeType"]
    shares = request.admin.shares_of(request.params["PortfolioId"], node_type)
    page, token = paginate(shares, request)
    return {
        "OrganizationNodes": [{"Type": node_type, "Value": s.principal_id} for s in page],
        **token,
    }


def accept_portfolio_share(request: CatalogRequest) -> dict[str, Any]:
    share_type = request.get("PortfolioShareType", "IMPORTED")
    share_acceptance.accept(
        request.admin, request.peers(), request.params["PortfolioId"], share_type
    )
    return {}


def reject_portfolio_share(request: CatalogRequest) -> dict[str, Any]:
    share_acceptance.reject(request.admin, request.params["PortfolioId"])
    return {}


def list_accepted_portfolio_shares(request: CatalogRequest) -> dict[str, Any]:
    portfolios = share_acceptance.accepted_portfolios(
        request.admin, request.get("PortfolioShareType", "IMPORTED")
    )
    page, token = paginate(portfolios, request)
    return {"PortfolioDetails": [p.detail() for p in page], **token}


def enable_aws_organizations_access(request: CatalogRequest) -> dict[str, Any]:
    # Recorded and reported only: organization shares work locally either way.
    request.admin.organizations_access = "ENABLED"
    return {}


def disable_aws_organizations_access(request: CatalogRequest) -> dict[str, Any]:
    request.admin.organizations_access = "DISABLED"
    return {}


def get_aws_organizations_access_status(request: CatalogRequest) -> dict[str, Any]:
    return {"AccessStatus": request.admin.organizations_access}


def copy_product(request: CatalogRequest) -> dict[str, Any]:
    region, account, _ = copying.split_product_arn(request.params["SourceProductArn"])
    source = request.catalog_of(account, region)
    operation = copying.start_copy(request.admin, source, request.params)
    return {"CopyProductToken": operation.token}


def describe_copy_product_status(request: CatalogRequest) -> dict[str, Any]:
    operation = request.admin.copy_operations.get(request.params["CopyProductToken"])
    if operation is None:
        raise ResourceNotFoundException(
            f"Copy product token {request.params['CopyProductToken']} not found."
        )
    return dict(operation.status_document())


ADMIN_HANDLERS: dict[str, Handler] = {
    "CopyProduct": copy_product,
    "DescribeCopyProductStatus": describe_copy_product_status,
    "EnableAWSOrganizationsAccess": enable_aws_organizations_access,
    "DisableAWSOrganizationsAccess": disable_aws_organizations_access,
    "GetAWSOrganizationsAccessStatus": get_aws_organizations_access_status,
    "AcceptPortfolioShare": accept_portfolio_share,
    "RejectPortfolioShare": reject_portfolio_share,
    "ListAcceptedPortfolioShares": list_accepted_portfolio_shares,
    "CreatePortfolio": create_portfolio,
    "DescribePortfolio": describe_portfolio,
    "UpdatePortfolio": update_portfolio,
    "DeletePortfolio": delete_portfolio,
    "ListPortfolios": list_portfolios,
    "ListPortfoliosForProduct": list_portfolios_for_product,
    "CreateProduct": create_product,
    "DescribeProduct": describe_product,
    "DescribeProductAsAdmin": describe_product_as_admin,
    "DescribeProductView": describe_product_view,
    "UpdateProduct": update_product,
    "DeleteProduct": delete_product,
    "SearchProductsAsAdmin": search_products_as_admin,
    "SearchProducts": search_products,
    "CreateProvisioningArtifact": create_provisioning_artifact,
    "DescribeProvisioningArtifact": describe_provisioning_artifact,
    "ListProvisioningArtifacts": list_provisioning_artifacts,
    "UpdateProvisioningArtifact": update_provisioning_artifact,
    "DeleteProvisioningArtifact": delete_provisioning_artifact,
    "AssociateProductWithPortfolio": associate_product_with_portfolio,
    "DisassociateProductFromPortfolio": disassociate_product_from_portfolio,
    "CreateConstraint": create_constraint,
    "DescribeConstraint": describe_constraint,
    "UpdateConstraint": update_constraint,
    "DeleteConstraint": delete_constraint,
    "ListConstraintsForPortfolio": list_constraints_for_portfolio,
    "AssociatePrincipalWithPortfolio": associate_principal_with_portfolio,
    "DisassociatePrincipalFromPortfolio": disassociate_principal_from_portfolio,
    "ListPrincipalsForPortfolio": list_principals_for_portfolio,
    "CreateTagOption": create_tag_option,
    "DescribeTagOption": describe_tag_option,
    "UpdateTagOption": update_tag_option,
    "DeleteTagOption": delete_tag_option,
    "ListTagOptions": list_tag_options,
    "AssociateTagOptionWithResource": associate_tag_option_with_resource,
    "DisassociateTagOptionFromResource": disassociate_tag_option_from_resource,
    "ListResourcesForTagOption": list_resources_for_tag_option,
    "CreatePortfolioShare": create_portfolio_share,
    "UpdatePortfolioShare": update_portfolio_share,
    "DeletePortfolioShare": delete_portfolio_share,
    "DescribePortfolioShareStatus": describe_portfolio_share_status,
    "DescribePortfolioShares": describe_portfolio_shares,
    "ListPortfolioAccess": list_portfolio_access,
    "ListOrganizationPortfolioAccess": list_organization_portfolio_access,
}
