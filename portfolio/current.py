"""Current state: what one region's Service Catalog and artifact bucket hold. Read-only calls."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from portfolio.aws import error_code
from portfolio.desired import DesiredCatalog, compact_json
from portfolio.versions import PolicyVersion

_HASH = re.compile(r"content-hash=([0-9a-f]{64})")
ROLLED_BACK_MARK = "rolled-back"


def recorded_hash(version_description: str) -> str | None:
    """The content hash publish recorded in a version's description, if any."""
    match = _HASH.search(version_description)
    return match.group(1) if match else None


@dataclass(frozen=True)
class VersionState:
    id: str
    name: str
    description: str
    active: bool
    guidance: str
    created: dt.datetime

    @property
    def content_hash(self) -> str | None:
        return recorded_hash(self.description)

    @property
    def rolled_back(self) -> bool:
        return ROLLED_BACK_MARK in self.description.split()

    def for_policy(self) -> PolicyVersion:
        return PolicyVersion(self.id, self.name, self.created, self.rolled_back)


@dataclass(frozen=True)
class ConstraintState:
    id: str
    type: str
    description: str
    parameters_json: str  # canonical JSON


@dataclass
class ProductState:
    id: str
    name: str
    metadata: dict[str, str]
    versions: list[VersionState]
    tag_option_ids: set[str]
    associated: bool = False
    constraints: list[ConstraintState] = field(default_factory=list)
    build_version_status: str = "AVAILABLE"  # Status of the version holding the build's hash

    def version_by_hash(self, content_hash: str) -> VersionState | None:
        matches = [v for v in self.versions if v.content_hash == content_hash]
        return min(matches, key=lambda v: (v.created, v.id)) if matches else None

    def versions_named(self, name: str) -> list[VersionState]:
        return [v for v in self.versions if v.name == name]

    def constraints_of(self, kind: str) -> list[ConstraintState]:
        return [c for c in self.constraints if c.type == kind]


@dataclass(frozen=True)
class ShareState:
    kind: str
    principal_id: str
    share_principals: bool
    share_tag_options: bool


@dataclass
class PortfolioState:
    id: str
    display_name: str
    description: str
    provider_name: str
    tags: dict[str, str]
    tag_option_ids: set[str]
    principals: set[tuple[str, str]]
    shares: dict[tuple[str, str], ShareState]


@dataclass
class RegionState:
    region: str
    bucket_exists: bool
    existing_keys: set[str]
    portfolio: PortfolioState | None
    products: dict[str, ProductState]
    tag_options: dict[tuple[str, str], str]  # (key, value) -> TagOption id


def paginate(client: Any, operation: str, result_key: str, **kwargs: Any) -> list[Any]:
    """All items of a listing: botocore's paginator, or PageToken/NextPageToken by hand where
    botocore has none (DescribePortfolioShares)."""
    if client.can_paginate(operation):
        pages = client.get_paginator(operation).paginate(**kwargs)
        return [item for page in pages for item in page.get(result_key, [])]
    items: list[Any] = []
    call = getattr(client, operation)
    response = call(**kwargs)
    items += response.get(result_key, [])
    while response.get("NextPageToken"):
        response = call(**kwargs, PageToken=response["NextPageToken"])
        items += response.get(result_key, [])
    return items


def read_region(sc: Any, s3: Any, desired: DesiredCatalog, region: str) -> RegionState:
    bucket = desired.bucket(region)
    bucket_exists = _bucket_exists(s3, bucket)
    keys = {a.key for a in desired.artifacts if bucket_exists and _object_exists(s3, bucket, a.key)}
    portfolio_id = find_portfolio_id(sc, desired.display_name)
    share_kinds = {share.kind for share in desired.shares}
    portfolio = read_portfolio(sc, portfolio_id, share_kinds) if portfolio_id else None
    in_portfolio = _product_ids_in(sc, portfolio_id) if portfolio_id else set()
    products = {
        name: read_product(sc, product_id, portfolio_id if product_id in in_portfolio else None)
        for name, product_id in find_product_ids(sc, set(desired.products)).items()
    }
    for name, product in products.items():
        _read_build_version_status(sc, product, desired.products[name].content_hash)
    return RegionState(region, bucket_exists, keys, portfolio, products, read_tag_options(sc))


def _read_build_version_status(sc: Any, product: ProductState, content_hash: str) -> None:
    # ListProvisioningArtifacts carries no Status: describe the one version the build maps
    # to, so a FAILED or still CREATING version is not mistaken for a finished one.
    version = product.version_by_hash(content_hash)
    if version is not None:
        product.build_version_status = str(
            sc.describe_provisioning_artifact(
                ProductId=product.id, ProvisioningArtifactId=version.id
            ).get("Status", "AVAILABLE")
        )


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def _object_exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def find_portfolio_id(sc: Any, display_name: str) -> str | None:
    # Portfolio names are not unique in the API; the oldest one with our name is ours, so two
    # concurrent first runs converge on the same portfolio.
    matches = [
        p
        for p in paginate(sc, "list_portfolios", "PortfolioDetails")
        if p["DisplayName"] == display_name
    ]
    if not matches:
        return None
    return str(min(matches, key=lambda p: (p["CreatedTime"], p["Id"]))["Id"])


def find_product_ids(sc: Any, names: set[str]) -> dict[str, str]:
    found: dict[str, tuple[Any, str]] = {}
    # ProductSource=ACCOUNT: only products this account owns. A product shared with us from
    # another account cannot take new versions, so it must never be mistaken for ours.
    for detail in paginate(
        sc, "search_products_as_admin", "ProductViewDetails", ProductSource="ACCOUNT"
    ):
        summary = detail["ProductViewSummary"]
        if summary["Name"] not in names:
            continue
        candidate = (detail.get("CreatedTime"), summary["ProductId"])
        previous = found.get(summary["Name"])
        if previous is None or _older(candidate, previous):
            found[summary["Name"]] = candidate
    return {name: product_id for name, (_, product_id) in found.items()}


def _older(left: tuple[Any, str], right: tuple[Any, str]) -> bool:
    if left[0] is None or right[0] is None:
        return left[1] < right[1]
    return bool(left < right)


def read_portfolio(sc: Any, portfolio_id: str, share_kinds: set[str]) -> PortfolioState:
    described = sc.describe_portfolio(Id=portfolio_id)
    detail = described["PortfolioDetail"]
    principals = paginate(
        sc, "list_principals_for_portfolio", "Principals", PortfolioId=portfolio_id
    )
    return PortfolioState(
        id=portfolio_id,
        display_name=detail["DisplayName"],
        description=detail.get("Description", ""),
        provider_name=detail.get("ProviderName", ""),
        tags={t["Key"]: t["Value"] for t in described.get("Tags", [])},
        tag_option_ids={t["Id"] for t in described.get("TagOptions", [])},
        principals={(p["PrincipalType"], p["PrincipalARN"]) for p in principals},
        shares=read_shares(sc, portfolio_id, share_kinds),
    )


def read_shares(sc: Any, portfolio_id: str, kinds: set[str]) -> dict[tuple[str, str], ShareState]:
    # Only the share types the config uses: a portfolio without shares costs no calls here.
    shares: dict[tuple[str, str], ShareState] = {}
    for kind in sorted(kinds):
        details = paginate(
            sc,
            "describe_portfolio_shares",
            "PortfolioShareDetails",
            PortfolioId=portfolio_id,
            Type=kind,
        )
        for d in details:
            shares[(kind, d["PrincipalId"])] = ShareState(
                kind,
                d["PrincipalId"],
                bool(d.get("SharePrincipals")),
                bool(d.get("ShareTagOptions")),
            )
    return shares


def read_product(sc: Any, product_id: str, portfolio_id: str | None) -> ProductState:
    """PORTFOLIO_ID: the portfolio the product is associated with, None when it is not."""
    described = sc.describe_product_as_admin(Id=product_id)
    summary = described["ProductViewDetail"]["ProductViewSummary"]
    product = ProductState(
        id=product_id,
        name=summary["Name"],
        metadata=product_metadata_of(summary),
        versions=read_published_versions(sc, product_id),
        tag_option_ids={t["Id"] for t in described.get("TagOptions", [])},
    )
    if portfolio_id:
        product.associated = True
        product.constraints = read_constraints(sc, portfolio_id, product_id)
    return product


def _product_ids_in(sc: Any, portfolio_id: str) -> set[str]:
    details = paginate(
        sc, "search_products_as_admin", "ProductViewDetails", PortfolioId=portfolio_id
    )
    return {d["ProductViewSummary"]["ProductId"] for d in details}


def product_metadata_of(summary: dict[str, Any]) -> dict[str, str]:
    return {
        "Owner": summary.get("Owner", ""),
        "Description": summary.get("ShortDescription", ""),
        "Distributor": summary.get("Distributor", ""),
        "SupportEmail": summary.get("SupportEmail", ""),
        "SupportUrl": summary.get("SupportUrl", ""),
    }


def read_published_versions(sc: Any, product_id: str) -> list[VersionState]:
    details = sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    return [
        VersionState(
            id=d["Id"],
            name=d.get("Name", ""),
            description=d.get("Description", ""),
            active=bool(d.get("Active", True)),
            guidance=d.get("Guidance", "DEFAULT"),
            created=d["CreatedTime"],
        )
        for d in details
    ]


def read_constraints(sc: Any, portfolio_id: str, product_id: str) -> list[ConstraintState]:
    details = paginate(
        sc,
        "list_constraints_for_portfolio",
        "ConstraintDetails",
        PortfolioId=portfolio_id,
        ProductId=product_id,
    )
    return [_constraint(sc, d) for d in details]


def _constraint(sc: Any, detail: dict[str, Any]) -> ConstraintState:
    described = sc.describe_constraint(Id=detail["ConstraintId"])
    parameters = json.loads(described.get("ConstraintParameters") or "{}")
    return ConstraintState(
        id=detail["ConstraintId"],
        type=detail["Type"],
        description=detail.get("Description", ""),
        parameters_json=compact_json(parameters),
    )


def read_tag_options(sc: Any) -> dict[tuple[str, str], str]:
    details = paginate(sc, "list_tag_options", "TagOptionDetails")
    return {(d["Key"], d["Value"]): d["Id"] for d in details}
