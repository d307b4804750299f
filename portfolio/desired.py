"""Desired state: the portfolio section of the config plus the build manifest, interpreted.

Pure: reads the files under dist/ (to check them against the manifest) and nothing else. The
manifest itself arrives typed (catalog.manifest.Manifest.load checked its fields).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.manifest import Manifest, ProductArtifact
from portfolio.artifacts import Artifact, ArtifactChecker
from portfolio.errors import PortfolioConfigError

DEFAULT_KEEP_ACTIVE = 2
DEFAULT_DEACTIVATE_AFTER = 5
# Service Catalog allows at most 10 IAM_PATTERN principals per portfolio.
MAX_IAM_PATTERNS = 10


@dataclass(frozen=True)
class TemplateConstraint:
    description: str
    rules_json: str  # canonical JSON of {"Rules": ...}, compared as text


@dataclass(frozen=True)
class DesiredProduct:
    name: str
    version: str
    content_hash: str
    description: str
    owner: str
    distributor: str
    support_email: str
    support_url: str
    template: Artifact
    package: Artifact
    template_constraints: tuple[TemplateConstraint, ...] = ()
    platform_packages: tuple[Artifact, ...] = ()  # the template picks one by arch and runtime
    release_note: str = ""  # the version's note from its changelog ("" for none)

    def metadata(self) -> dict[str, str]:
        """The product's Service Catalog metadata, keyed as CreateProduct/UpdateProduct take it."""
        return {
            "Owner": self.owner,
            "Description": self.description,
            "Distributor": self.distributor,
            "SupportEmail": self.support_email,
            "SupportUrl": self.support_url,
        }


@dataclass(frozen=True)
class Share:
    kind: str  # ACCOUNT | ORGANIZATIONAL_UNIT | ORGANIZATION
    principal_id: str


@dataclass(frozen=True)
class Retention:
    keep_active: int = DEFAULT_KEEP_ACTIVE
    deactivate_after: int = DEFAULT_DEACTIVATE_AFTER


@dataclass(frozen=True)
class DesiredCatalog:
    display_name: str
    description: str
    provider_name: str
    regions: tuple[str, ...]
    bucket_prefix: str
    launch_parameters_json: str
    principals: frozenset[tuple[str, str]]
    tag_options: frozenset[tuple[str, str]]
    tags: dict[str, str]
    retention: Retention
    shares: tuple[Share, ...]
    share_principals: bool
    share_tag_options: bool
    products: dict[str, DesiredProduct]
    commit: str = "unknown"
    artifacts: tuple[Artifact, ...] = field(default=())

    def bucket(self, region: str) -> str:
        return f"{self.bucket_prefix}-{region}"

    def version_description(self, product: DesiredProduct) -> str:
        return version_description(product.content_hash, self.commit, product.release_note)


def version_description(content_hash: str, commit: str, release_note: str = "") -> str:
    """What we record with each version: its release note for the console's reader, then the
    content hash and commit (UpdateProvisioningArtifact cannot change content). A version
    bumped without a note is described by its hash and commit alone."""
    recorded = f"content-hash={content_hash} commit={commit}"
    return f"{release_note} {recorded}" if release_note else recorded


def compact_json(value: Any) -> str:
    """Sorted keys, no spaces: constraint parameters are compared with AWS's as this text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def desired_catalog(
    portfolio: dict[str, Any],
    manifest: Manifest,
    dist_dir: Path,
    commit: str = "unknown",
    environment_accounts: tuple[str, ...] = (),
    *,
    permissions_boundary_arn: str | None = None,
) -> DesiredCatalog:
    """Interpret the validated portfolio section and the build manifest, checking both.
    ENVIRONMENT_ACCOUNTS (environments.<env>.account) get an account share of their own.
    PERMISSIONS_BOUNDARY_ARN (catalog.permissions_boundary_arn) adds a TEMPLATE constraint to
    every product that requires exactly that boundary."""
    products = _desired_products(portfolio, manifest, dist_dir, permissions_boundary_arn)
    shares_config = portfolio.get("shares", {})
    artifacts = tuple(
        a for p in products.values() for a in (p.package, p.template, *p.platform_packages)
    )
    return DesiredCatalog(
        display_name=portfolio["display_name"],
        description=portfolio.get("description", ""),
        provider_name=portfolio["provider_name"],
        regions=tuple(portfolio["regions"]),
        bucket_prefix=manifest.artifact_bucket_prefix,
        launch_parameters_json=_launch_parameters(portfolio["launch_role"]),
        principals=_principals(portfolio.get("principals", [])),
        tag_options=frozenset(
            (key, value)
            for key, values in portfolio.get("tag_options", {}).items()
            for value in values
        ),
        tags=dict(portfolio.get("tags", {})),
        retention=_retention(portfolio.get("retention", {})),
        shares=_shares(shares_config, environment_accounts),
        share_principals=bool(shares_config.get("share_principals", False)),
        share_tag_options=bool(shares_config.get("share_tag_options", False)),
        products=products,
        commit=commit,
        artifacts=artifacts,
    )


def _launch_parameters(launch_role: dict[str, str]) -> str:
    if "local_role_name" in launch_role:
        return compact_json({"LocalRoleName": launch_role["local_role_name"]})
    return compact_json({"RoleArn": launch_role["role_arn"]})


def _principals(principals: list[dict[str, str]]) -> frozenset[tuple[str, str]]:
    patterns = [p["arn"] for p in principals if p["type"] == "IAM_PATTERN"]
    for arn in patterns:
        # IAM_PATTERN ARNs carry no account id: the pattern applies in every sharing account.
        if arn.split(":")[4:5] not in ([""], []):
            raise PortfolioConfigError(
                f"portfolio.principals: IAM_PATTERN {arn!r} must not contain an account id "
                "(write arn:aws:iam:::role/Name*)"
            )
    if len(patterns) > MAX_IAM_PATTERNS:
        raise PortfolioConfigError(
            f"portfolio.principals: {len(patterns)} IAM_PATTERN principals, "
            f"Service Catalog allows at most {MAX_IAM_PATTERNS}"
        )
    return frozenset((p["type"], p["arn"]) for p in principals)


def _retention(config: dict[str, int]) -> Retention:
    retention = Retention(
        keep_active=config.get("keep_active", DEFAULT_KEEP_ACTIVE),
        deactivate_after=config.get("deactivate_after", DEFAULT_DEACTIVATE_AFTER),
    )
    if retention.deactivate_after < retention.keep_active:
        raise PortfolioConfigError(
            f"portfolio.retention.deactivate_after: {retention.deactivate_after!r} is less than "
            f"keep_active ({retention.keep_active}); versions are deprecated before deactivated"
        )
    return retention


def _shares(config: dict[str, Any], environment_accounts: tuple[str, ...]) -> tuple[Share, ...]:
    accounts = list(config.get("accounts", []))
    if not config.get("organization_id"):
        # A deploy stage imports the portfolio in its environment's account; an organization
        # share already reaches every member account (and is imported there automatically).
        accounts += [a for a in environment_accounts if a not in accounts]
    shares = [Share("ACCOUNT", account) for account in accounts]
    shares += [Share("ORGANIZATIONAL_UNIT", ou) for ou in config.get("organizational_units", [])]
    if config.get("organization_id"):
        shares.append(Share("ORGANIZATION", config["organization_id"]))
    return tuple(shares)


def _desired_products(
    portfolio: dict[str, Any], manifest: Manifest, dist_dir: Path, boundary: str | None
) -> dict[str, DesiredProduct]:
    entries = manifest.products
    constraints = portfolio.get("template_constraints", {})
    required = [_boundary_constraint(boundary)] if boundary else []
    unknown = sorted(set(constraints) - set(entries))
    if unknown:
        raise PortfolioConfigError(
            f"portfolio.template_constraints.{unknown[0]}: product {unknown[0]!r} is not built "
            f"(known: {', '.join(sorted(entries))})"
        )
    checker = ArtifactChecker(dist_dir)  # one per build: a package shared by products hashes once
    return {
        name: _desired_product(name, entry, checker, constraints.get(name, []) + required)
        for name, entry in sorted(entries.items())
    }


def _desired_product(
    name: str, entry: ProductArtifact, checker: ArtifactChecker, constraints: list[dict[str, Any]]
) -> DesiredProduct:
    artifacts = checker.check(name, entry)
    return DesiredProduct(
        name=name,
        version=entry.version,
        content_hash=entry.content_hash,
        description=entry.description,
        owner=entry.owner,
        distributor=entry.distributor,
        support_email=entry.support_email,
        support_url=entry.support_url,
        template=artifacts.template,
        package=artifacts.package,
        platform_packages=artifacts.platform_packages,
        template_constraints=tuple(
            TemplateConstraint(c["description"], compact_json({"Rules": c["rules"]}))
            for c in constraints
        ),
        release_note=entry.release_note,
    )


def _boundary_constraint(boundary: str) -> dict[str, Any]:
    """The rule that makes a console launch without the boundary fail before any resource is
    created (the launch role would refuse the role later, with a less helpful error)."""
    return {
        "description": "roles carry the account's permissions boundary",
        "rules": {
            "PermissionsBoundaryRequired": {
                "Assertions": [
                    {
                        "Assert": {"Fn::Equals": [{"Ref": "PermissionsBoundaryArn"}, boundary]},
                        "AssertDescription": f"PermissionsBoundaryArn must be {boundary}: "
                        "every role this product creates carries that permissions boundary.",
                    }
                ]
            }
        },
    }
