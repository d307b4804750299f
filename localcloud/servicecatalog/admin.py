"""Catalog administration: portfolios, products, versions, associations, constraints, principals,
TagOptions and shares, with the real service's rules and error codes."""

import json
import re
import threading
from collections.abc import Callable
from typing import Any, cast

from .entities import (
    Constraint,
    Portfolio,
    PortfolioShare,
    Product,
    ProvisioningArtifact,
    ShareOperation,
    TagOption,
    new_id,
)
from .exceptions import (
    DuplicateResourceException,
    InvalidParametersException,
    InvalidStateException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from .rules import check_rules_document
from .templates import TemplateUnreadable, load_template_from_url, template_url_of

# Delay before asynchronous work finishes, so clients really see CREATING / IN_PROGRESS states.
ASYNC_DELAY_SECONDS = 0.05
# Organization shares take minutes on AWS; half a second keeps IN_PROGRESS observable locally.
SHARE_DELAY_SECONDS = 0.5
MAX_IAM_PATTERNS_PER_PORTFOLIO = 10
_IAM_PATTERN = re.compile(r"^arn:aws:iam:::(role|user|group)/[\w+=,.@*?/-]+$")
_IAM_ARN = re.compile(r"^arn:aws:iam::\d{12}:(role|user|group)/[\w+=,.@/-]+$")
CONSTRAINT_TYPES = ("LAUNCH", "NOTIFICATION", "RESOURCE_UPDATE", "STACKSET", "TEMPLATE")


class BackgroundWork:
    """Counts running timer jobs so a reset can wait for them instead of racing them."""

    def __init__(self) -> None:
        self._idle = threading.Condition()
        self._running = 0

    def run_later(self, action: Callable[[], None], delay: float) -> None:
        with self._idle:
            self._running += 1
        timer = threading.Timer(delay, self._run, args=(action,))
        timer.daemon = True
        timer.start()

    def _run(self, action: Callable[[], None]) -> None:
        try:
            action()
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)


BACKGROUND = BackgroundWork()


def run_later(action: Callable[[], None], delay: float = ASYNC_DELAY_SECONDS) -> None:
    BACKGROUND.run_later(action, delay)


class AdminBackend:
    """State of one account in one region; every public method takes the backend lock."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.lock = threading.RLock()
        self.retired = False
        self.portfolios: dict[str, Portfolio] = {}
        self.products: dict[str, Product] = {}
        self.constraints: dict[str, Constraint] = {}
        self.tag_options: dict[str, TagOption] = {}
        self.shares: dict[tuple[str, str, str], PortfolioShare] = {}
        self.share_operations: dict[str, ShareOperation] = {}
        self.idempotency: dict[tuple[str, str], str] = {}
        # Deleted resources by id: a Create* call that repeats the token of a deleted resource
        # gets that resource's answer again, as AWS documents ("the same response is returned
        # for each repeated request"), not a new resource.
        self.deleted: dict[str, Any] = {}
        # Portfolios other accounts shared with this one and it accepted: id -> (portfolio, type).
        self.accepted: dict[str, tuple[Portfolio, str]] = {}
        # Using an import: the owner's backend per accepted portfolio (its products and
        # constraints stay the owner's, in sync) and this account's own principal associations.
        self.imported_from: dict[str, AdminBackend] = {}
        self.imported_principals: dict[str, dict[str, str]] = {}
        self.organizations_access = "DISABLED"
        self.copy_operations: dict[str, Any] = {}  # CopyProductToken -> copying.CopyOperation

    # ---- lookups -------------------------------------------------------------------------
    def portfolio(self, portfolio_id: str) -> Portfolio:
        found = self.portfolios.get(portfolio_id)
        if found is None:
            raise ResourceNotFoundException(f"Portfolio {portfolio_id} not found.")
        return found

    def product(self, product_id: str | None = None, name: str | None = None) -> Product:
        if product_id:
            found = (
                self.products.get(product_id)
                or self._product_by_view_id(product_id)
                or self._imported_product(product_id)
            )
        elif name:
            found = next((p for p in self.products.values() if p.name == name), None)
        else:
            raise InvalidParametersException("Either Id or Name must be specified.")
        if found is None:
            raise ResourceNotFoundException(f"Product {product_id or name} not found.")
        return found

    def _product_by_view_id(self, view_id: str) -> Product | None:
        return next((p for p in self.products.values() if p.view_id == view_id), None)

    def _imported_product(self, product_id: str) -> Product | None:
        for portfolio in self.imported_portfolios():
            if product_id in portfolio.product_ids:
                return self.imported_from[portfolio.id].products.get(product_id)
        return None

    def imported_portfolios(self) -> list[Portfolio]:
        """The accepted portfolios as their owners hold them now (an import is not a copy)."""
        return [
            owner.portfolios[portfolio_id]
            for portfolio_id, owner in self.imported_from.items()
            if portfolio_id in owner.portfolios
        ]

    def imported_products(self, portfolio_id: str) -> list[Product]:
        owner = self.imported_from[portfolio_id]
        portfolio = owner.portfolio(portfolio_id)
        return [owner.products[i] for i in sorted(portfolio.product_ids) if i in owner.products]

    def principals_of(self, portfolio_id: str) -> dict[str, str]:
        if portfolio_id in self.imported_from:
            return self.imported_principals.setdefault(portfolio_id, {})
        return self.portfolio(portfolio_id).principals

    def artifact(
        self, product: Product, artifact_id: str | None = None, name: str | None = None
    ) -> ProvisioningArtifact:
        if artifact_id:
            found = product.artifacts.get(artifact_id)
        elif name:
            found = next((a for a in product.artifacts.values() if a.name == name), None)
        else:
            raise InvalidParametersException(
                "Either ProvisioningArtifactId or Name must be specified."
            )
        if found is None:
            shown = artifact_id or name
            raise ResourceNotFoundException(
                f"Provisioning artifact {shown} not found for product {product.id}."
            )
        return found

    def constraint(self, constraint_id: str) -> Constraint:
        found = self.constraints.get(constraint_id)
        if found is None:
            raise ResourceNotFoundException(f"Constraint {constraint_id} not found.")
        return found

    def tag_option(self, tag_option_id: str) -> TagOption:
        found = self.tag_options.get(tag_option_id)
        if found is None:
            raise ResourceNotFoundException(f"TagOption {tag_option_id} not found.")
        return found

    def _remembered(self, operation: str, token: str | None) -> str | None:
        return self.idempotency.get((operation, token)) if token else None

    def _replayed(self, operation: str, token: str | None, live: dict[str, Any]) -> Any | None:
        """The resource a repeated token answers with: live, or deleted since (replayed)."""
        known = self._remembered(operation, token)
        if known is None:
            return None
        return live.get(known) or self.deleted.get(known)

    def _remember(self, operation: str, token: str | None, resource_id: str) -> None:
        if token:
            self.idempotency[(operation, token)] = resource_id

    # ---- portfolios ----------------------------------------------------------------------
    def create_portfolio(
        self,
        display_name: str,
        provider_name: str,
        description: str | None,
        tags: dict[str, str],
        token: str,
    ) -> Portfolio:
        replayed = self._replayed("CreatePortfolio", token, self.portfolios)
        if replayed is not None:
            return cast(Portfolio, replayed)
        portfolio_id = new_id("port")
        portfolio = Portfolio(
            id=portfolio_id,
            arn=f"arn:aws:catalog:{self.region}:{self.account_id}:portfolio/{portfolio_id}",
            display_name=display_name,
            provider_name=provider_name,
            description=description,
            tags=dict(tags),
        )
        self.portfolios[portfolio_id] = portfolio
        self._remember("CreatePortfolio", token, portfolio_id)
        return portfolio

    def update_portfolio(self, portfolio_id: str, changes: dict[str, Any]) -> Portfolio:
        portfolio = self.portfolio(portfolio_id)
        if changes.get("DisplayName") is not None:
            portfolio.display_name = changes["DisplayName"]
        if changes.get("ProviderName") is not None:
            portfolio.provider_name = changes["ProviderName"]
        if changes.get("Description") is not None:
            portfolio.description = changes["Description"]
        _apply_tag_changes(portfolio.tags, changes)
        return portfolio

    def delete_portfolio(self, portfolio_id: str) -> None:
        portfolio = self.portfolio(portfolio_id)
        in_use = {
            "products": bool(portfolio.product_ids),
            "principals": bool(portfolio.principals),
            "constraints": any(c.portfolio_id == portfolio_id for c in self.constraints.values()),
            "shares": any(key[0] == portfolio_id for key in self.shares),
        }
        blockers = [name for name, used in in_use.items() if used]
        if blockers:
            raise ResourceInUseException(
                f"Portfolio {portfolio_id} cannot be deleted while it has {', '.join(blockers)}."
            )
        self.deleted[portfolio_id] = self.portfolios.pop(portfolio_id)

    # ---- products and versions -----------------------------------------------------------
    def create_product(
        self, fields: dict[str, Any], artifact_fields: dict[str, Any], token: str
    ) -> Product:
        replayed = self._replayed("CreateProduct", token, self.products)
        if replayed is not None:
            return cast(Product, replayed)
        _check_artifact_type(fields["ProductType"], artifact_fields)
        product_id = new_id("prod")
        product = Product(
            id=product_id,
            arn=f"arn:aws:catalog:{self.region}:{self.account_id}:product/{product_id}",
            view_id=new_id("prodview"),
            name=fields["Name"],
            owner=fields["Owner"],
            type=fields["ProductType"],
            description=fields.get("Description", ""),
            distributor=fields.get("Distributor", ""),
            support_description=fields.get("SupportDescription", ""),
            support_email=fields.get("SupportEmail", ""),
            support_url=fields.get("SupportUrl", ""),
            tags={tag["Key"]: tag["Value"] for tag in fields.get("Tags", [])},
        )
        self._add_artifact(product, artifact_fields)
        self.products[product_id] = product
        self._remember("CreateProduct", token, product_id)
        return product

    def update_product(self, product_id: str, changes: dict[str, Any]) -> Product:
        product = self.product(product_id)
        simple = {
            "Name": "name",
            "Owner": "owner",
            "Description": "description",
            "Distributor": "distributor",
            "SupportDescription": "support_description",
            "SupportEmail": "support_email",
            "SupportUrl": "support_url",
        }
        for key, attribute in simple.items():
            if changes.get(key) is not None:
                setattr(product, attribute, changes[key])
        _apply_tag_changes(product.tags, changes)
        return product

    def delete_product(self, product_id: str) -> None:
        product = self.product(product_id)
        portfolios = [p.id for p in self.portfolios.values() if product.id in p.product_ids]
        if portfolios:
            raise ResourceInUseException(
                f"Product {product.id} is associated with portfolio(s) {', '.join(portfolios)}."
            )
        self.deleted[product.id] = self.products.pop(product.id)

    def create_provisioning_artifact(
        self, product_id: str, artifact_fields: dict[str, Any], token: str
    ) -> ProvisioningArtifact:
        product = self.product(product_id)
        replayed = self._replayed("CreateProvisioningArtifact", token, product.artifacts)
        if replayed is not None:
            return cast(ProvisioningArtifact, replayed)
        _check_artifact_type(product.type, artifact_fields)
        artifact = self._add_artifact(product, artifact_fields)
        self._remember("CreateProvisioningArtifact", token, artifact.id)
        return artifact

    def _add_artifact(
        self, product: Product, artifact_fields: dict[str, Any]
    ) -> ProvisioningArtifact:
        url = template_url_of(artifact_fields.get("Info") or {})
        artifact = ProvisioningArtifact(
            id=new_id("pa"),
            name=artifact_fields.get("Name", ""),
            description=artifact_fields.get("Description", ""),
            type=artifact_fields.get("Type", "CLOUD_FORMATION_TEMPLATE"),
            template_url=url,
        )
        product.artifacts[artifact.id] = artifact
        run_later(lambda: self._finish_artifact(artifact))
        return artifact

    def _finish_artifact(self, artifact: ProvisioningArtifact) -> None:
        # Service Catalog reads and parses the template after answering; failures show as FAILED.
        with self.lock:
            if self.retired:
                return
            try:
                artifact.template = load_template_from_url(self.account_id, artifact.template_url)
                artifact.status = "AVAILABLE"
            except (TemplateUnreadable, InvalidParametersException) as error:
                artifact.status = "FAILED"
                artifact.failure = str(error)

    def update_provisioning_artifact(
        self, product_id: str, artifact_id: str, changes: dict[str, Any]
    ) -> ProvisioningArtifact:
        artifact = self.artifact(self.product(product_id), artifact_id)
        if changes.get("Name") is not None:
            artifact.name = changes["Name"]
        if changes.get("Description") is not None:
            artifact.description = changes["Description"]
        if changes.get("Active") is not None:
            artifact.active = changes["Active"]
        if changes.get("Guidance") is not None:
            artifact.guidance = changes["Guidance"]
        return artifact

    def delete_provisioning_artifact(self, product_id: str, artifact_id: str, in_use: bool) -> None:
        product = self.product(product_id)
        self.artifact(product, artifact_id)
        if len(product.artifacts) == 1:
            raise InvalidParametersException(
                f"Cannot delete {artifact_id}, the last provisioning artifact of {product.id}."
            )
        if in_use:
            raise ResourceInUseException(
                f"Provisioning artifact {artifact_id} is used by a provisioned product."
            )
        self.deleted[artifact_id] = product.artifacts.pop(artifact_id)

    # ---- associations --------------------------------------------------------------------
    def associate_product(self, product_id: str, portfolio_id: str) -> None:
        product = self.product(product_id)
        portfolio = self.portfolio(portfolio_id)
        if product.id not in portfolio.product_ids:  # associating twice is a no-op, as in AWS
            portfolio.product_ids.append(product.id)

    def disassociate_product(self, product_id: str, portfolio_id: str) -> None:
        product = self.product(product_id)
        portfolio = self.portfolio(portfolio_id)
        if product.id not in portfolio.product_ids:
            raise ResourceNotFoundException(
                f"Product {product.id} is not associated with portfolio {portfolio_id}."
            )
        if any(
            c.product_id == product.id and c.portfolio_id == portfolio_id
            for c in self.constraints.values()
        ):
            raise ResourceInUseException(
                f"Product {product.id} has constraints in portfolio {portfolio_id}."
            )
        portfolio.product_ids.remove(product.id)

    def portfolios_for_product(self, product_id: str) -> list[Portfolio]:
        product = self.product(product_id)
        return [p for p in self.portfolios.values() if product.id in p.product_ids]

    # ---- constraints ---------------------------------------------------------------------
    def create_constraint(self, fields: dict[str, Any], token: str) -> Constraint:
        replayed = self._replayed("CreateConstraint", token, self.constraints)
        if replayed is not None:
            return cast(Constraint, replayed)
        portfolio = self.portfolio(fields["PortfolioId"])
        product = self.product(fields["ProductId"])
        if product.id not in portfolio.product_ids:
            # The documented race: a constraint needs the association to exist first.
            raise ResourceNotFoundException(
                f"Product {product.id} is not associated with portfolio {portfolio.id}."
            )
        constraint_type = fields["Type"]
        parameters = _parse_constraint_parameters(constraint_type, fields["Parameters"])
        self._check_constraint_unique(constraint_type, product.id, portfolio.id)
        _check_constraint_parameters(constraint_type, parameters)
        constraint = Constraint(
            id=new_id("cons"),
            type=constraint_type,
            owner=self.account_id,
            product_id=product.id,
            portfolio_id=portfolio.id,
            parameters=fields["Parameters"],
            description=fields.get("Description", ""),
        )
        self.constraints[constraint.id] = constraint
        self._remember("CreateConstraint", token, constraint.id)
        return constraint

    def _check_constraint_unique(
        self, constraint_type: str, product_id: str, portfolio_id: str
    ) -> None:
        exclusive = (
            {"LAUNCH", "STACKSET"}
            if constraint_type in ("LAUNCH", "STACKSET")
            else {constraint_type}
        )
        if constraint_type in ("TEMPLATE", "NOTIFICATION"):
            return  # several TEMPLATE / NOTIFICATION constraints may coexist
        for existing in self.constraints.values():
            same_path = existing.product_id == product_id and existing.portfolio_id == portfolio_id
            if same_path and existing.type in exclusive:
                raise DuplicateResourceException(
                    f"A {existing.type} constraint ({existing.id}) already exists for product "
                    f"{product_id} in portfolio {portfolio_id}."
                )

    def update_constraint(
        self, constraint_id: str, description: str | None, parameters: str | None
    ) -> Constraint:
        constraint = self.constraint(constraint_id)
        if parameters is not None:
            _check_constraint_parameters(
                constraint.type, _parse_constraint_parameters(constraint.type, parameters)
            )
            constraint.parameters = parameters
        if description is not None:
            constraint.description = description
        return constraint

    def delete_constraint(self, constraint_id: str) -> None:
        self.constraint(constraint_id)
        self.deleted[constraint_id] = self.constraints.pop(constraint_id)

    def constraints_for(self, portfolio_id: str, product_id: str | None = None) -> list[Constraint]:
        if portfolio_id in self.imported_from:  # the owner's constraints apply to the import
            return self.imported_from[portfolio_id].constraints_for(portfolio_id, product_id)
        self.portfolio(portfolio_id)
        return [
            c
            for c in self.constraints.values()
            if c.portfolio_id == portfolio_id and (product_id is None or c.product_id == product_id)
        ]

    # ---- principals ----------------------------------------------------------------------
    def associate_principal(
        self, portfolio_id: str, principal_arn: str, principal_type: str
    ) -> None:
        principals = self.principals_of(portfolio_id)
        _check_principal(principal_arn, principal_type)
        patterns = [arn for arn, kind in principals.items() if kind == "IAM_PATTERN"]
        adds_pattern = principal_type == "IAM_PATTERN" and principal_arn not in patterns
        if adds_pattern and len(patterns) >= MAX_IAM_PATTERNS_PER_PORTFOLIO:
            raise LimitExceededException(
                f"Portfolio {portfolio_id} already has {len(patterns)} IAM_PATTERN principals."
            )
        principals[principal_arn] = principal_type

    def disassociate_principal(self, portfolio_id: str, principal_arn: str) -> None:
        principals = self.principals_of(portfolio_id)
        if principal_arn not in principals:
            raise ResourceNotFoundException(
                f"Principal {principal_arn} is not associated with portfolio {portfolio_id}."
            )
        del principals[principal_arn]

    # ---- TagOptions ----------------------------------------------------------------------
    def create_tag_option(self, key: str, value: str) -> TagOption:
        for existing in self.tag_options.values():
            if existing.key == key and existing.value == value:
                raise DuplicateResourceException(
                    f"TagOption {key}={value} already exists ({existing.id})."
                )
        option = TagOption(id=new_id("tag"), key=key, value=value, owner=self.account_id)
        self.tag_options[option.id] = option
        return option

    def update_tag_option(
        self, tag_option_id: str, value: str | None, active: bool | None
    ) -> TagOption:
        option = self.tag_option(tag_option_id)
        if value is not None and value != option.value:
            for other in self.tag_options.values():
                if other.key == option.key and other.value == value:
                    raise DuplicateResourceException(
                        f"TagOption {option.key}={value} already exists."
                    )
            option.value = value
        if active is not None:
            option.active = active
        return option

    def delete_tag_option(self, tag_option_id: str) -> None:
        self.tag_option(tag_option_id)
        if self._tag_option_holders(tag_option_id):
            raise ResourceInUseException(f"TagOption {tag_option_id} is associated with resources.")
        del self.tag_options[tag_option_id]

    def _tag_option_holders(self, tag_option_id: str) -> list[Portfolio | Product]:
        holders: list[Portfolio | Product] = [*self.portfolios.values(), *self.products.values()]
        return [holder for holder in holders if tag_option_id in holder.tag_option_ids]

    def _tag_option_target(self, resource_id: str) -> Portfolio | Product:
        if resource_id in self.portfolios:
            return self.portfolios[resource_id]
        if resource_id in self.products:
            return self.products[resource_id]
        raise ResourceNotFoundException(f"Resource {resource_id} not found.")

    def associate_tag_option(self, resource_id: str, tag_option_id: str) -> None:
        option = self.tag_option(tag_option_id)
        target = self._tag_option_target(resource_id)
        if not option.active:
            raise InvalidParametersException(f"TagOption {tag_option_id} is not active.")
        if tag_option_id in target.tag_option_ids:
            raise DuplicateResourceException(
                f"TagOption {tag_option_id} is already associated with {resource_id}."
            )
        target.tag_option_ids.append(tag_option_id)

    def disassociate_tag_option(self, resource_id: str, tag_option_id: str) -> None:
        target = self._tag_option_target(resource_id)
        if tag_option_id not in target.tag_option_ids:
            raise ResourceNotFoundException(
                f"TagOption {tag_option_id} is not associated with {resource_id}."
            )
        target.tag_option_ids.remove(tag_option_id)

    def tag_options_of(self, holder: Portfolio | Product) -> list[TagOption]:
        return [self.tag_options[i] for i in holder.tag_option_ids if i in self.tag_options]

    def resources_for_tag_option(
        self, tag_option_id: str, resource_type: str | None
    ) -> list[Portfolio | Product]:
        self.tag_option(tag_option_id)
        holders = self._tag_option_holders(tag_option_id)
        if resource_type == "Portfolio":
            return [h for h in holders if isinstance(h, Portfolio)]
        if resource_type == "Product":
            return [h for h in holders if isinstance(h, Product)]
        return holders

    # ---- shares --------------------------------------------------------------------------
    def create_share(
        self,
        portfolio_id: str,
        account_id: str | None,
        node: dict[str, str] | None,
        share_tag_options: bool,
        share_principals: bool,
    ) -> str | None:
        self.portfolio(portfolio_id)
        share_type, principal = _share_target(account_id, node)
        self._check_no_share_in_progress(portfolio_id, principal)
        if share_principals and share_type == "ACCOUNT":
            raise InvalidParametersException(
                "SharePrincipals is only supported for organization node shares."
            )
        key = (portfolio_id, share_type, principal)
        if key not in self.shares:  # sharing again to the same target changes nothing
            self.shares[key] = PortfolioShare(
                portfolio_id, share_type, principal, share_tag_options, share_principals
            )
        return self._share_token(portfolio_id, share_type, principal)

    def _check_no_share_in_progress(self, portfolio_id: str, node_value: str) -> None:
        for operation in self.share_operations.values():
            same_target = (operation.portfolio_id, operation.node_value) == (
                portfolio_id,
                node_value,
            )
            if same_target and operation.status == "IN_PROGRESS":
                raise InvalidStateException(
                    f"A share operation ({operation.token}) for {node_value} on portfolio "
                    f"{portfolio_id} is still IN_PROGRESS."
                )

    def _share_token(self, portfolio_id: str, share_type: str, principal: str) -> str | None:
        if share_type == "ACCOUNT":
            return None  # account shares complete synchronously and return no token
        operation = ShareOperation(
            token=new_id("share"), portfolio_id=portfolio_id, node_value=principal
        )
        self.share_operations[operation.token] = operation
        run_later(lambda: self._complete_share(operation), SHARE_DELAY_SECONDS)
        return operation.token

    def _complete_share(self, operation: ShareOperation) -> None:
        with self.lock:
            operation.status = "COMPLETED"

    def update_share(
        self,
        portfolio_id: str,
        account_id: str | None,
        node: dict[str, str] | None,
        share_tag_options: bool | None,
        share_principals: bool | None,
    ) -> tuple[str | None, str]:
        self.portfolio(portfolio_id)
        share_type, principal = _share_target(account_id, node)
        self._check_no_share_in_progress(portfolio_id, principal)
        share = self.shares.get((portfolio_id, share_type, principal))
        if share is None:
            raise ResourceNotFoundException(
                f"Portfolio {portfolio_id} is not shared with {principal}."
            )
        if share_principals is not None and share_type == "ACCOUNT":
            raise InvalidParametersException(
                "SharePrincipals is only supported for organization node shares."
            )
        if share_tag_options is None and share_principals is None:
            raise InvalidParametersException(
                "Specify ShareTagOptions or SharePrincipals to update."
            )
        if share_tag_options is not None:
            share.share_tag_options = share_tag_options
        if share_principals is not None:
            share.share_principals = share_principals
        token = self._share_token(portfolio_id, share_type, principal)
        return token, "COMPLETED" if token is None else "IN_PROGRESS"

    def delete_share(
        self, portfolio_id: str, account_id: str | None, node: dict[str, str] | None
    ) -> str | None:
        self.portfolio(portfolio_id)
        share_type, principal = _share_target(account_id, node)
        self._check_no_share_in_progress(portfolio_id, principal)
        if self.shares.pop((portfolio_id, share_type, principal), None) is None:
            raise ResourceNotFoundException(
                f"Portfolio {portfolio_id} is not shared with {principal}."
            )
        return self._share_token(portfolio_id, share_type, principal)

    def share_status(self, token: str) -> ShareOperation:
        operation = self.share_operations.get(token)
        if operation is None:
            raise ResourceNotFoundException(f"Portfolio share token {token} not found.")
        return operation

    def shares_of(self, portfolio_id: str, share_type: str) -> list[PortfolioShare]:
        self.portfolio(portfolio_id)
        return [
            s for key, s in self.shares.items() if key[0] == portfolio_id and key[1] == share_type
        ]


def _apply_tag_changes(tags: dict[str, str], changes: dict[str, Any]) -> None:
    for tag in changes.get("AddTags") or []:
        tags[tag["Key"]] = tag["Value"]
    for key in changes.get("RemoveTags") or []:
        tags.pop(key, None)


def _check_artifact_type(product_type: str, artifact_fields: dict[str, Any]) -> None:
    artifact_type = artifact_fields.get("Type", "CLOUD_FORMATION_TEMPLATE")
    if product_type != "CLOUD_FORMATION_TEMPLATE" or artifact_type != "CLOUD_FORMATION_TEMPLATE":
        raise InvalidParametersException(
            f"Only CLOUD_FORMATION_TEMPLATE is emulated, got {product_type}/{artifact_type}."
        )


def _parse_constraint_parameters(constraint_type: str, text: str) -> dict[str, Any]:
    if constraint_type not in CONSTRAINT_TYPES:
        raise InvalidParametersException(
            f"Constraint Type {constraint_type!r} is not one of {', '.join(CONSTRAINT_TYPES)}."
        )
    try:
        parameters = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidParametersException(
            f"Constraint Parameters are not valid JSON: {error}"
        ) from error
    if not isinstance(parameters, dict):
        raise InvalidParametersException("Constraint Parameters must be a JSON object.")
    return parameters


def _check_constraint_parameters(constraint_type: str, parameters: dict[str, Any]) -> None:
    if constraint_type == "LAUNCH":
        _check_launch_parameters(parameters)
    elif constraint_type == "TEMPLATE":
        check_rules_document(parameters.get("Rules"))
    elif constraint_type == "RESOURCE_UPDATE":
        value = (parameters.get("Properties") or {}).get("TagUpdateOnProvisionedProduct")
        if parameters.get("Version") != "2.0" or value not in ("ALLOWED", "NOT_ALLOWED"):
            raise InvalidParametersException(
                'RESOURCE_UPDATE Parameters must be {"Version": "2.0", "Properties": '
                '{"TagUpdateOnProvisionedProduct": "ALLOWED" | "NOT_ALLOWED"}}'
            )
    elif constraint_type == "NOTIFICATION" and not parameters.get("NotificationArns"):
        raise InvalidParametersException("NOTIFICATION Parameters must contain NotificationArns.")


def _check_launch_parameters(parameters: dict[str, Any]) -> None:
    has_arn, has_local = bool(parameters.get("RoleArn")), bool(parameters.get("LocalRoleName"))
    if has_arn == has_local:
        raise InvalidParametersException(
            "LAUNCH constraint Parameters need exactly one of RoleArn or LocalRoleName."
        )
    if has_arn and not str(parameters["RoleArn"]).startswith("arn:aws:iam::"):
        raise InvalidParametersException(
            f"RoleArn {parameters['RoleArn']!r} is not an IAM role ARN."
        )


def _check_principal(principal_arn: str, principal_type: str) -> None:
    if principal_type == "IAM_PATTERN":
        # Patterns carry no account id and allow wildcards only in the resource path/name.
        if not _IAM_PATTERN.match(principal_arn):
            raise InvalidParametersException(
                f"PrincipalARN {principal_arn!r} is not a valid IAM_PATTERN "
                "(arn:aws:iam:::role|user|group/<path-and-name with * or ?>)."
            )
    elif not _IAM_ARN.match(principal_arn):
        raise InvalidParametersException(f"PrincipalARN {principal_arn!r} is not a valid IAM ARN.")


def _share_target(account_id: str | None, node: dict[str, str] | None) -> tuple[str, str]:
    if bool(account_id) == bool(node):
        raise InvalidParametersException("Specify exactly one of AccountId or OrganizationNode.")
    if account_id:
        return "ACCOUNT", account_id
    assert node is not None
    node_type, value = node.get("Type"), node.get("Value")
    if not node_type or not value:
        raise InvalidParametersException("OrganizationNode needs both Type and Value.")
    return node_type, value
