"""Current state: what one region's Service Catalog and artifact bucket hold. Read-only calls."""

from __future__ import annotations

import datetime as dt
import hashlib
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
# Written into a version's description once publish has seen it AVAILABLE (a final status:
# a version never leaves it), so later reads need no DescribeProvisioningArtifact for it.
AVAILABLE_MARK = "available"
# Written into a constraint's description by publish: the digest of the parameters it set.
# ListConstraintsForPortfolio carries descriptions but no parameters; the digest spares a
# DescribeConstraint per constraint. A constraint without it is described as before.
_PARAMETERS_MARK = re.compile(r"\s*\[parameters-sha256=([0-9a-f]{16})\]$")


def parameters_digest(parameters_json: str) -> str:
    return hashlib.sha256(parameters_json.encode()).hexdigest()[:16]


def marked_description(description: str, parameters_json: str) -> str:
    """DESCRIPTION with the digest of PARAMETERS_JSON recorded at its end."""
    return f"{description} [parameters-sha256={parameters_digest(parameters_json)}]"


def split_description(marked: str) -> tuple[str, str | None]:
    """(the description as configured, the recorded parameters digest or None)."""
    match = _PARAMETERS_MARK.search(marked)
    if match is None:
        return marked, None
    return marked[: match.start()], match.group(1)


def recorded_hash(version_description: str) -> str | None:
    """The content hash publish recorded in a version's description, if any."""
    match = _HASH.search(version_description)
    return match.group(1) if match else None


def recorded_marks(version_description: str) -> list[str]:
    """The words publish and rollback append after the recorded hash: a release note before
    the hash may hold any word ("available" too) without being read as a mark."""
    words = version_description.split()
    for index, word in enumerate(words):
        if _HASH.fullmatch(word):
            return words[index + 1 :]
    return words


def without_mark(version_description: str, mark: str) -> str:
    """VERSION_DESCRIPTION without MARK among the marks (the release note is kept as written)."""
    match = _HASH.search(version_description)
    if match is None:
        return " ".join(w for w in version_description.split() if w != mark)
    head, tail = version_description[: match.start()], version_description[match.start() :]
    return head + " ".join(w for w in tail.split() if w != mark)


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
        return ROLLED_BACK_MARK in recorded_marks(self.description)

    @property
    def seen_available(self) -> bool:
        return AVAILABLE_MARK in recorded_marks(self.description)

    def for_policy(self) -> PolicyVersion:
        return PolicyVersion(self.id, self.name, self.created, self.rolled_back)


@dataclass(frozen=True)
class ConstraintState:
    id: str
    type: str
    description: str
    parameters_json: str  # canonical JSON; "" when only its digest is known
    parameters_sha256: str | None = None  # the digest publish recorded in the description

    def holds(self, parameters_json: str) -> bool:
        if self.parameters_json:
            return self.parameters_json == parameters_json
        return self.parameters_sha256 == parameters_digest(parameters_json)


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
    # The attached TagOptions by (key, value): DescribePortfolio lists them with key and value,
    # so no account-wide ListTagOptions is needed to plan them.
    tag_option_pairs: dict[tuple[str, str], str] = field(default_factory=dict)


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
    """One pass of bulk reads: listings where AWS has them, a describe only where a listing
    lacks a field (docs/publishing.md, "What a publish reads")."""
    stored = _stored_keys(s3, desired.bucket(region), [a.key for a in desired.artifacts])
    keys = {a.key for a in desired.artifacts if stored is not None and a.key in stored}
    portfolio_id = find_portfolio_id(sc, desired.display_name)
    share_kinds = {share.kind for share in desired.shares}
    portfolio = read_portfolio(sc, portfolio_id, share_kinds) if portfolio_id else None
    found = _find_products(sc, set(desired.products))
    in_portfolio = _product_ids_in(sc, portfolio_id) if portfolio_id else set()
    constraints = _constraints_by_product(sc, portfolio_id) if portfolio_id else {}
    products = {
        name: _product_state(sc, summary, summary["ProductId"] in in_portfolio, constraints)
        for name, summary in found.items()
    }
    for name, product in products.items():
        _read_build_version_status(sc, product, desired.products[name].content_hash)
    tag_options = portfolio.tag_option_pairs if portfolio else {}
    return RegionState(region, stored is not None, keys, portfolio, products, dict(tag_options))


def _read_build_version_status(sc: Any, product: ProductState, content_hash: str) -> None:
    # ListProvisioningArtifacts carries no Status: describe the one version the build maps
    # to, so a FAILED or still CREATING version is not mistaken for a finished one -- unless
    # publish recorded that it saw it AVAILABLE, a status a version never leaves.
    version = product.version_by_hash(content_hash)
    if version is not None and not version.seen_available:
        product.build_version_status = str(
            sc.describe_provisioning_artifact(
                ProductId=product.id, ProvisioningArtifactId=version.id
            ).get("Status", "AVAILABLE")
        )


def _stored_keys(s3: Any, bucket: str, keys: list[str]) -> set[str] | None:
    """The keys stored under the artifacts' common prefix (one ListObjectsV2 per 1,000 keys,
    strongly consistent since 2020), or None when the bucket does not exist."""
    prefix = _common_folder(keys)
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}
    except botocore.exceptions.ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return None
        raise


def _common_folder(keys: list[str]) -> str:
    """The longest folder ("a/b/") holding every key; "" for the whole bucket."""
    folders = [key.split("/")[:-1] for key in keys]
    common: list[str] = []
    for parts in zip(*folders, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "".join(f"{part}/" for part in common)


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
    return {name: str(s["ProductId"]) for name, s in _find_products(sc, names).items()}


def _find_products(sc: Any, names: set[str]) -> dict[str, dict[str, Any]]:
    """NAME -> the ProductViewSummary of the oldest product of this account with that name."""
    found: dict[str, tuple[Any, str, dict[str, Any]]] = {}
    # ProductSource=ACCOUNT: only products this account owns. A product shared with us from
    # another account cannot take new versions, so it must never be mistaken for ours.
    for detail in paginate(
        sc, "search_products_as_admin", "ProductViewDetails", ProductSource="ACCOUNT"
    ):
        summary = detail["ProductViewSummary"]
        if summary["Name"] not in names:
            continue
        candidate = (detail.get("CreatedTime"), summary["ProductId"], summary)
        previous = found.get(summary["Name"])
        if previous is None or _older(candidate[:2], previous[:2]):
            found[summary["Name"]] = candidate
    return {name: summary for name, (_, _, summary) in found.items()}


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
        tag_option_pairs={(t["Key"], t["Value"]): t["Id"] for t in described.get("TagOptions", [])},
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


def _product_state(
    sc: Any,
    summary: dict[str, Any],
    associated: bool,
    constraints: dict[str, list[ConstraintState]],
) -> ProductState:
    """A product from its search summary (metadata included), its versions from one
    ListProvisioningArtifacts, its constraints from the portfolio's one listing."""
    product_id = str(summary["ProductId"])
    return ProductState(
        id=product_id,
        name=summary["Name"],
        metadata=product_metadata_of(summary),
        versions=read_published_versions(sc, product_id),
        tag_option_ids=set(),
        associated=associated,
        constraints=constraints.get(product_id, []) if associated else [],
    )


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
    """One product's constraints, each described (the check after a duplicate create)."""
    details = paginate(
        sc,
        "list_constraints_for_portfolio",
        "ConstraintDetails",
        PortfolioId=portfolio_id,
        ProductId=product_id,
    )
    return [_described_constraint(sc, d) for d in details]


def _constraints_by_product(sc: Any, portfolio_id: str) -> dict[str, list[ConstraintState]]:
    """Every constraint of the portfolio from one listing (20 per page, the API's maximum),
    keyed by product id; described only when no parameters digest is recorded."""
    details = paginate(
        sc, "list_constraints_for_portfolio", "ConstraintDetails", PortfolioId=portfolio_id
    )
    by_product: dict[str, list[ConstraintState]] = {}
    for detail in details:
        by_product.setdefault(detail["ProductId"], []).append(_listed_constraint(sc, detail))
    return by_product


def _listed_constraint(sc: Any, detail: dict[str, Any]) -> ConstraintState:
    description, digest = split_description(detail.get("Description", ""))
    if digest is None:
        return _described_constraint(sc, detail)
    return ConstraintState(
        id=detail["ConstraintId"],
        type=detail["Type"],
        description=description,
        parameters_json="",
        parameters_sha256=digest,
    )


def _described_constraint(sc: Any, detail: dict[str, Any]) -> ConstraintState:
    described = sc.describe_constraint(Id=detail["ConstraintId"])
    parameters = json.loads(described.get("ConstraintParameters") or "{}")
    return ConstraintState(
        id=detail["ConstraintId"],
        type=detail["Type"],
        description=split_description(detail.get("Description", ""))[0],
        parameters_json=compact_json(parameters),
    )


def read_tag_options(sc: Any) -> dict[tuple[str, str], str]:
    details = paginate(sc, "list_tag_options", "TagOptionDetails")
    return {(d["Key"], d["Value"]): d["Id"] for d in details}
