"""Apply a region's plan. Every step is idempotent: a rerun after a failure finishes the job.

IDs that did not exist at plan time (a new portfolio, product or version) are resolved through
a ResourceIds filled as the steps run. Creates carry idempotency tokens derived from content, so a
retry or a concurrent run gets the same resource back instead of a duplicate.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from portfolio import current as cur
from portfolio.aws import error_code, unless_not_found
from portfolio.changes import (
    Action,
    Change,
    Kind,
    LaunchConstraintParams,
    ObjectUpload,
    PortfolioTags,
    PrincipalRef,
    ProductAssociation,
    ProductRef,
    RetentionTarget,
    ShareSettings,
    TagOptionPair,
    TemplateConstraintParams,
    VersionBuild,
)
from portfolio.desired import DesiredCatalog, DesiredProduct
from portfolio.errors import AwsCallError, PollTimeoutError, PublishError
from portfolio.plan import reused_name_error
from portfolio.polling import wait_for

Progress = Callable[[Change], None]
LAUNCH_CONSTRAINT_DESCRIPTION = "Launch role of the on-call tools catalog"

# How long a resource created a moment ago may stay invisible to reads (Service Catalog is
# eventually consistent) before the answer is taken for the replay of a deleted resource.
CREATED_VISIBLE_WITHIN_SECONDS = 30.0
# Each replayed answer costs one more create with a new token; more than this is not a replay.
_MAX_REPLAYS = 3


def idempotency_token(*parts: str) -> str:
    # Tokens allow 1-128 chars of [a-zA-Z0-9_-], starting alphanumeric: a hex digest fits.
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def template_url(bucket: str, region: str, key: str) -> str:
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


@dataclass
class ResourceIds:
    """The ids of the region's portfolio, products and versions: read at plan time, completed
    as apply creates what did not exist (a version is keyed "hash:<sha>" until it has an id)."""

    portfolio_id: str | None = None
    product_ids: dict[str, str] = field(default_factory=dict)
    version_ids: dict[tuple[str, str], str] = field(default_factory=dict)  # (product, key) -> id

    @classmethod
    def from_state(cls, state: cur.RegionState) -> ResourceIds:
        book = cls(portfolio_id=state.portfolio.id if state.portfolio else None)
        for name, product in state.products.items():
            book.product_ids[name] = product.id
            for version in product.versions:
                book.version_ids[(name, version.id)] = version.id
            for content_hash in {v.content_hash for v in product.versions if v.content_hash}:
                oldest = product.version_by_hash(content_hash)
                if oldest is not None:
                    book.version_ids[(name, f"hash:{content_hash}")] = oldest.id
        return book

    def portfolio(self) -> str:
        if self.portfolio_id is None:
            raise PublishError("internal: portfolio id unknown before the portfolio step ran")
        return self.portfolio_id

    def product(self, name: str) -> str:
        if name not in self.product_ids:
            raise PublishError(f"internal: product {name!r} id unknown before its step ran")
        return self.product_ids[name]


class RegionApplier:
    """Runs one region's changes in plan order against that region's clients."""

    def __init__(self, sc: Any, s3: Any, desired: DesiredCatalog, state: cur.RegionState) -> None:
        self.sc, self.s3, self.desired, self.region = sc, s3, desired, state.region
        self.ids = ResourceIds.from_state(state)
        self.tag_options = dict(state.tag_options)
        # Each handler reads its kind's payload (change.payload_as) and makes the API call(s).
        self._handlers: dict[tuple[Kind, Action], Callable[[Change], None]] = {
            (Kind.OBJECT, Action.CREATE): self._upload,
            (Kind.PORTFOLIO, Action.CREATE): self._create_portfolio,
            (Kind.PORTFOLIO, Action.UPDATE): self._update_portfolio,
            (Kind.PRODUCT, Action.CREATE): self._create_product,
            (Kind.PRODUCT, Action.UPDATE): self._update_product,
            (Kind.VERSION, Action.CREATE): self._create_version,
            (Kind.VERSION, Action.UPDATE): self._create_version,
            (Kind.RETENTION, Action.CREATE): self._set_retention,
            (Kind.RETENTION, Action.UPDATE): self._set_retention,
            (Kind.ASSOCIATION, Action.CREATE): self._associate,
            (Kind.LAUNCH_CONSTRAINT, Action.CREATE): self._create_launch_constraint,
            (Kind.LAUNCH_CONSTRAINT, Action.UPDATE): self._update_launch_constraint,
            (Kind.TEMPLATE_CONSTRAINT, Action.CREATE): self._create_template_constraint,
            (Kind.TEMPLATE_CONSTRAINT, Action.UPDATE): self._update_template_constraint,
            (Kind.TEMPLATE_CONSTRAINT, Action.DELETE): self._delete_template_constraint,
            (Kind.PRINCIPAL, Action.CREATE): self._associate_principal,
            (Kind.PRINCIPAL, Action.DELETE): self._disassociate_principal,
            (Kind.TAG_OPTION, Action.CREATE): self._attach_tag_option,
            (Kind.SHARE, Action.CREATE): self._create_share,
            (Kind.SHARE, Action.UPDATE): self._update_share,
        }

    def apply(self, changes: list[Change], progress: Progress) -> None:
        for change in changes:
            if change.action is Action.NO_CHANGE:
                continue
            handler = self._handlers[(change.kind, change.action)]
            try:
                handler(change)
            except botocore.exceptions.ClientError as error:
                raise AwsCallError(
                    f"{change.region}: {change.action} {change.kind} {change.name!r} failed: "
                    f"{error}; rerun publish to resume"
                ) from error
            progress(change)

    # --- creating under a token -----------------------------------------------------------------

    def _create_live(
        self, what: str, token: str, create: Callable[[str], str], describe: Callable[[str], Any]
    ) -> str:
        """Create with a token derived from what is created, and return the created id.

        AWS answers a repeated token with its first response, even when that resource has been
        deleted since (an operator removed a FAILED version or a constraint): such a dead answer
        is retried with the token salted by the dead id, which stays deterministic, so runs
        racing each other still get one resource.
        """
        for _ in range(_MAX_REPLAYS):
            created = create(token)
            if self._visible(created, describe):
                return created
            token = idempotency_token(token, created)
        raise PublishError(
            f"{self.region}: {what}: every create answered with a resource that "
            "does not exist; rerun publish"
        )

    def _visible(self, resource_id: str, describe: Callable[[str], Any]) -> bool:
        found = self._eventually(lambda: unless_not_found(lambda: describe(resource_id)))
        return found is not None

    def _eventually(self, read: Callable[[], Any]) -> Any:
        """READ's first answer other than None within the read-after-create lag, else None."""
        try:
            return wait_for(
                read, f"{self.region}: read after create", timeout=CREATED_VISIBLE_WITHIN_SECONDS
            )
        except PollTimeoutError:
            return None

    # --- uploads, portfolio, products ---------------------------------------------------------

    def _upload(self, change: Change) -> None:
        upload = change.payload_as(ObjectUpload)
        # Content-addressed keys: an object that exists already has exactly these bytes.
        body = upload.path.read_bytes()
        self.s3.put_object(Bucket=upload.bucket, Key=upload.key, Body=body)

    def _create_portfolio(self, change: Change) -> None:
        change.payload_as(PortfolioTags)  # a create takes every field from the desired state

        def create(token: str) -> str:
            return str(
                self.sc.create_portfolio(
                    DisplayName=self.desired.display_name,
                    Description=self.desired.description,
                    ProviderName=self.desired.provider_name,
                    Tags=[{"Key": k, "Value": v} for k, v in sorted(self.desired.tags.items())],
                    IdempotencyToken=token,
                )["PortfolioDetail"]["Id"]
            )

        created = self._create_live(
            f"portfolio {self.desired.display_name!r}",
            idempotency_token("portfolio", self.desired.display_name),
            create,
            lambda portfolio_id: self.sc.describe_portfolio(Id=portfolio_id),
        )
        # Look it up rather than trusting our response: a concurrent run may have created one
        # first, and the oldest portfolio with the name is the one everybody uses. Until the
        # listing shows ours (it may lag), ours is the one.
        self.ids.portfolio_id = (
            self._eventually(lambda: cur.find_portfolio_id(self.sc, self.desired.display_name))
            or created
        )

    def _update_portfolio(self, change: Change) -> None:
        tags = change.payload_as(PortfolioTags)
        if tags.replace_tag_keys:
            # Remove, then add: the order of AddTags and RemoveTags on one key within a single
            # UpdatePortfolio call is not documented, so a changed value takes two calls.
            self.sc.update_portfolio(
                Id=self.ids.portfolio(), RemoveTags=list(tags.replace_tag_keys)
            )
        self.sc.update_portfolio(
            Id=self.ids.portfolio(),
            Description=self.desired.description,
            ProviderName=self.desired.provider_name,
            AddTags=[{"Key": k, "Value": v} for k, v in tags.add_tags],
        )

    def _product(self, name: str) -> DesiredProduct:
        return self.desired.products[name]

    def _create_product(self, change: Change) -> None:
        product = self._product(change.payload_as(ProductRef).product)

        first_version: dict[str, str] = {}

        def create(token: str) -> str:
            response = self.sc.create_product(
                Name=product.name,
                ProductType="CLOUD_FORMATION_TEMPLATE",
                ProvisioningArtifactParameters=self._artifact_parameters(product),
                IdempotencyToken=token,
                **_non_empty(product.metadata()),
            )
            first_version["id"] = response["ProvisioningArtifactDetail"]["Id"]
            return str(response["ProductViewDetail"]["ProductViewSummary"]["ProductId"])

        # By name only: two runs racing to create the product get the same one back, and the
        # version check below sorts out whose content it holds.
        created = self._create_live(
            f"product {product.name}",
            idempotency_token("product", product.name),
            create,
            lambda product_id: self.sc.describe_product_as_admin(Id=product_id),
        )
        self.ids.product_ids[product.name] = (
            self._eventually(
                lambda: cur.find_product_ids(self.sc, {product.name}).get(product.name)
            )
            or created
        )
        if self._eventually(lambda: self._adopt_version(product) or None):
            return
        if self.ids.product(product.name) == created and self._holds_our_content(
            product, created, first_version["id"]
        ):
            # Listed later than created: the product's first version is ours.
            self.ids.version_ids[(product.name, f"hash:{product.content_hash}")] = first_version[
                "id"
            ]
            return
        self._create_artifact(product)  # created concurrently with another run's content

    def _holds_our_content(self, product: DesiredProduct, product_id: str, version_id: str) -> bool:
        described = unless_not_found(
            lambda: self.sc.describe_provisioning_artifact(
                ProductId=product_id, ProvisioningArtifactId=version_id
            )
        )
        if described is None:
            return False
        description = described["ProvisioningArtifactDetail"].get("Description", "")
        return cur.recorded_hash(description) == product.content_hash

    def _update_product(self, change: Change) -> None:
        product = self._product(change.payload_as(ProductRef).product)
        self.sc.update_product(
            Id=self.ids.product(product.name), Name=product.name, **product.metadata()
        )

    # --- versions -------------------------------------------------------------------------

    def _artifact_parameters(self, product: DesiredProduct) -> dict[str, Any]:
        bucket = self.desired.bucket(self.region)
        return {
            "Name": product.version,
            "Description": self.desired.version_description(product),
            "Info": {
                "LoadTemplateFromURL": template_url(bucket, self.region, product.template.key)
            },
            "Type": "CLOUD_FORMATION_TEMPLATE",
        }

    def _create_version(self, change: Change) -> None:
        version = change.payload_as(VersionBuild)
        product = self._product(version.product)
        if not version.already_created:
            self._create_artifact(product)
        version_id = self.ids.version_ids[(product.name, f"hash:{product.content_hash}")]
        self._wait_available(product.name, version_id)

    def _create_artifact(self, product: DesiredProduct) -> None:
        product_id = self.ids.product(product.name)
        if self._adopt_version(product):
            return  # a concurrent run created it after our plan was made
        # The plan's refusal of a reused name is checked again right before writing: a
        # concurrent run may have published this name with other content since.
        self._refuse_taken_name(product)

        def create(token: str) -> str:
            return str(
                self.sc.create_provisioning_artifact(
                    ProductId=product_id,
                    Parameters=self._artifact_parameters(product),
                    IdempotencyToken=token,
                )["ProvisioningArtifactDetail"]["Id"]
            )

        created = self._create_live(
            f"{product.name} {product.version}",
            idempotency_token("version", product.name, product.content_hash),
            create,
            lambda version_id: self.sc.describe_provisioning_artifact(
                ProductId=product_id, ProvisioningArtifactId=version_id
            ),
        )
        if not self._eventually(lambda: self._adopt_version(product) or None):
            # Listed later than described: the one we created holds our content.
            self.ids.version_ids[(product.name, f"hash:{product.content_hash}")] = created
        self._withdraw_if_beaten(product)

    def _same_name(self, product: DesiredProduct) -> list[cur.VersionState]:
        versions = cur.read_published_versions(self.sc, self.ids.product(product.name))
        named = [v for v in versions if v.name == product.version]
        return sorted(named, key=lambda v: (v.created, v.id))

    def _refuse_taken_name(self, product: DesiredProduct) -> None:
        for version in self._same_name(product):
            if version.content_hash != product.content_hash:
                raise reused_name_error(product, self.region, version.content_hash)

    def _withdraw_if_beaten(self, product: DesiredProduct) -> None:
        """Two runs created this version name with different content at once: the older
        version wins, the newer one (ours, if so) is deleted before anyone can launch it."""
        named = self._same_name(product)
        if not named or named[0].content_hash == product.content_hash:
            return  # nothing listed with the name yet (listing lag): nothing beat us
        first = named[0]
        ours = self.ids.version_ids[(product.name, f"hash:{product.content_hash}")]
        self._wait_available(product.name, ours)
        self.sc.delete_provisioning_artifact(
            ProductId=self.ids.product(product.name), ProvisioningArtifactId=ours
        )
        raise reused_name_error(product, self.region, first.content_hash)

    def _adopt_version(self, product: DesiredProduct) -> bool:
        """Record the id of the version holding our content hash (the oldest if duplicated)."""
        state = cur.read_published_versions(self.sc, self.ids.product(product.name))
        matches = [v for v in state if v.content_hash == product.content_hash]
        if not matches:
            return False
        oldest = min(matches, key=lambda v: (v.created, v.id))
        self.ids.version_ids[(product.name, f"hash:{product.content_hash}")] = oldest.id
        return True

    def _wait_available(self, product: str, version_id: str) -> None:
        product_id = self.ids.product(product)

        missing_since: list[float] = []

        def status() -> str | None:
            described = unless_not_found(
                lambda: self.sc.describe_provisioning_artifact(
                    ProductId=product_id, ProvisioningArtifactId=version_id
                )
            )
            if described is None:
                # Created a moment ago and not readable everywhere yet, or deleted meanwhile
                # (a concurrent run withdrew it): only the first is worth waiting for.
                missing_since[:] = missing_since or [time.monotonic()]
                if time.monotonic() - missing_since[0] > CREATED_VISIBLE_WITHIN_SECONDS:
                    raise PublishError(
                        f"{self.region}: version {version_id} of {product} "
                        "does not exist (deleted meanwhile?); rerun publish"
                    )
                return None
            value = str(described.get("Status", "AVAILABLE"))
            return None if value == "CREATING" else value

        final = wait_for(status, f"{self.region}: version {version_id} of {product}")
        if final != "AVAILABLE":
            raise PublishError(
                f"{self.region}: version {version_id} of {product} ended {final}: Service "
                "Catalog could not read the template (check the bucket policy and the template)"
            )

    def _set_retention(self, change: Change) -> None:
        target = change.payload_as(RetentionTarget)
        self.sc.update_provisioning_artifact(
            ProductId=self.ids.product(target.product),
            ProvisioningArtifactId=self.ids.version_ids[(target.product, target.version_key)],
            Active=target.active,
            Guidance=target.guidance,
            **self._seen_available(target),
        )

    def _seen_available(self, target: RetentionTarget) -> dict[str, str]:
        """The version this run created (keyed by hash) was waited AVAILABLE by the version
        step: record that in its description, in the retention call already being made, so
        later plans need not describe it (current.AVAILABLE_MARK)."""
        if not target.version_key.startswith("hash:"):
            return {}
        described = self.desired.version_description(self._product(target.product))
        return {"Description": f"{described} {cur.AVAILABLE_MARK}"}

    # --- associations and constraints ---------------------------------------------------------

    def _associate(self, change: Change) -> None:
        product = change.payload_as(ProductAssociation).product
        self.sc.associate_product_with_portfolio(
            ProductId=self.ids.product(product), PortfolioId=self.ids.portfolio()
        )

    def _create_launch_constraint(self, change: Change) -> None:
        launch = change.payload_as(LaunchConstraintParams)
        self._create_constraint(
            "LAUNCH", launch.product, launch.parameters, LAUNCH_CONSTRAINT_DESCRIPTION
        )

    def _create_template_constraint(self, change: Change) -> None:
        rules = change.payload_as(TemplateConstraintParams)
        self._create_constraint("TEMPLATE", rules.product, rules.parameters, rules.description)

    def _create_constraint(
        self, constraint_type: str, product: str, parameters: str, description: str
    ) -> None:
        product_id = self.ids.product(product)

        def create(token: str) -> str:
            def attempt() -> Any:
                return self.sc.create_constraint(
                    PortfolioId=self.ids.portfolio(),
                    ProductId=product_id,
                    Type=constraint_type,
                    Parameters=parameters,
                    Description=cur.marked_description(description, parameters),
                    IdempotencyToken=token,
                )

            # Right after the association, Service Catalog may not see it yet and answers
            # ResourceNotFoundException: that is waited out, like a read after a create.
            response = self._eventually(lambda: unless_not_found(attempt))
            if response is None:
                raise PublishError(
                    f"{self.region}: {product} is still not "
                    "associated with the portfolio; rerun publish"
                )
            return str(response["ConstraintDetail"]["ConstraintId"])

        try:
            self._create_live(
                f"{constraint_type} constraint of {product}",
                idempotency_token(
                    constraint_type, self.ids.portfolio(), product_id, description, parameters
                ),
                create,
                lambda constraint_id: self.sc.describe_constraint(Id=constraint_id),
            )
        except botocore.exceptions.ClientError as error:
            # One LAUNCH constraint per product and portfolio: a concurrent run made it.
            if error_code(error) != "DuplicateResourceException":
                raise
            self._check_duplicate_matches(constraint_type, product, parameters)

    def _check_duplicate_matches(self, constraint_type: str, product: str, parameters: str) -> None:
        existing = cur.read_constraints(self.sc, self.ids.portfolio(), self.ids.product(product))
        if not any(c.type == constraint_type and c.holds(parameters) for c in existing):
            raise PublishError(
                f"{self.region}: a different {constraint_type} constraint already exists "
                f"on {product}; rerun publish to update it"
            )

    def _update_launch_constraint(self, change: Change) -> None:
        launch = change.payload_as(LaunchConstraintParams)
        self._update_constraint(
            change, launch.constraint_id, launch.parameters, LAUNCH_CONSTRAINT_DESCRIPTION
        )

    def _update_template_constraint(self, change: Change) -> None:
        rules = change.payload_as(TemplateConstraintParams)
        self._update_constraint(change, rules.constraint_id, rules.parameters, rules.description)

    def _update_constraint(
        self, change: Change, constraint_id: str | None, parameters: str, description: str
    ) -> None:
        # The description carries the parameters' digest that later plans read instead of
        # describing the constraint: both change in the same call.
        self.sc.update_constraint(
            Id=_existing_id(change, constraint_id),
            Parameters=parameters,
            Description=cur.marked_description(description, parameters),
        )

    def _delete_template_constraint(self, change: Change) -> None:
        constraint_id = change.payload_as(TemplateConstraintParams).constraint_id
        self.sc.delete_constraint(Id=_existing_id(change, constraint_id))

    # --- principals, TagOptions, shares ---------------------------------------------------------

    def _associate_principal(self, change: Change) -> None:
        principal = change.payload_as(PrincipalRef)
        self.sc.associate_principal_with_portfolio(
            PortfolioId=self.ids.portfolio(),
            PrincipalARN=principal.arn,
            PrincipalType=principal.principal_type,
        )

    def _disassociate_principal(self, change: Change) -> None:
        principal = change.payload_as(PrincipalRef)
        self.sc.disassociate_principal_from_portfolio(
            PortfolioId=self.ids.portfolio(),
            PrincipalARN=principal.arn,
            PrincipalType=principal.principal_type,
        )

    def _attach_tag_option(self, change: Change) -> None:
        pair = change.payload_as(TagOptionPair)
        tag_option_id = self._tag_option_id(pair.key, pair.value)
        try:
            self.sc.associate_tag_option_with_resource(
                ResourceId=self.ids.portfolio(), TagOptionId=tag_option_id
            )
        except botocore.exceptions.ClientError as error:
            if error_code(error) not in (
                "DuplicateResourceException",
                "InvalidParametersException",
            ):
                raise
            if tag_option_id not in self._attached_tag_options():
                raise

    def _attached_tag_options(self) -> set[str]:
        return {
            t["Id"]
            for t in self.sc.describe_portfolio(Id=self.ids.portfolio()).get("TagOptions", [])
        }

    def _tag_option_id(self, key: str, value: str) -> str:
        if (key, value) not in self.tag_options:
            # The plan knew only the portfolio's own TagOptions; they are account-wide.
            self.tag_options.update(cur.read_tag_options(self.sc))
        if (key, value) in self.tag_options:
            return self.tag_options[(key, value)]
        try:
            created = self.sc.create_tag_option(Key=key, Value=value)
            return str(created["TagOptionDetail"]["Id"])
        except botocore.exceptions.ClientError as error:
            # TagOptions are account-wide and unique by key and value: reuse an existing one.
            if error_code(error) != "DuplicateResourceException":
                raise
            self.tag_options = cur.read_tag_options(self.sc)
            return self.tag_options[(key, value)]

    def _create_share(self, change: Change) -> None:
        share = change.payload_as(ShareSettings)
        response = self.sc.create_portfolio_share(
            PortfolioId=self.ids.portfolio(), **_share_target(share), **_share_flags(share)
        )
        self._wait_share(change, response.get("PortfolioShareToken"))

    def _update_share(self, change: Change) -> None:
        share = change.payload_as(ShareSettings)
        response = self.sc.update_portfolio_share(
            PortfolioId=self.ids.portfolio(), **_share_target(share), **_share_flags(share)
        )
        self._wait_share(change, response.get("PortfolioShareToken"))

    def _wait_share(self, change: Change, token: str | None) -> None:
        if not token:
            return  # account shares complete synchronously and return no token

        def status() -> str | None:
            value = str(
                self.sc.describe_portfolio_share_status(PortfolioShareToken=token)["Status"]
            )
            return None if value in ("NOT_STARTED", "IN_PROGRESS") else value

        final = wait_for(status, f"{self.region}: share {change.name}")
        if final != "COMPLETED":
            raise PublishError(f"{self.region}: share {change.name} ended {final}")


def _share_target(share: ShareSettings) -> dict[str, Any]:
    if share.share_type == "ACCOUNT":
        return {"AccountId": share.principal_id}
    return {"OrganizationNode": {"Type": share.share_type, "Value": share.principal_id}}


def _share_flags(share: ShareSettings) -> dict[str, Any]:
    flags = {"ShareTagOptions": share.share_tag_options}
    if share.share_type != "ACCOUNT":
        # SharePrincipals applies to organization and OU shares only.
        flags["SharePrincipals"] = share.share_principals
    return flags


def _existing_id(change: Change, constraint_id: str | None) -> str:
    if constraint_id is None:
        raise PublishError(
            f"internal: {change.region}: {change.action} {change.kind} "
            f"{change.name!r} names no existing constraint"
        )
    return constraint_id


def _non_empty(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}
