"""Status: the catalog as published, held against the build, with drift called out."""

from __future__ import annotations

from dataclasses import dataclass, field

from portfolio.current import ProductState, RegionState
from portfolio.desired import DesiredCatalog, DesiredProduct
from portfolio.versions import newest_first


@dataclass(frozen=True)
class VersionStatus:
    id: str
    name: str
    guidance: str
    active: bool
    content_hash: str | None
    rolled_back: bool


@dataclass
class ProductStatus:
    region: str
    name: str
    product_id: str | None
    declared_version: str
    versions: list[VersionStatus] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    @property
    def default_versions(self) -> list[str]:
        return [v.name for v in self.versions if v.guidance == "DEFAULT" and v.active]


@dataclass
class CatalogStatus:
    portfolio_ids: dict[str, str | None]
    products: list[ProductStatus]
    portfolio_drift: list[str]

    @property
    def drift(self) -> list[str]:
        return self.portfolio_drift + [
            f"{p.region}: {p.name}: {d}" for p in self.products for d in p.drift
        ]


def catalog_status(
    desired: DesiredCatalog,
    states: list[RegionState],
    history: dict[str, dict[str, str]] | None = None,
) -> CatalogStatus:
    """HISTORY is versions.json's {product: {version: hash}}: older versions are checked too."""
    products = [
        product_status(desired, state, product, (history or {}).get(name, {}))
        for state in states
        for name, product in desired.products.items()
    ]
    return CatalogStatus(
        portfolio_ids={s.region: s.portfolio.id if s.portfolio else None for s in states},
        products=products,
        portfolio_drift=[d for s in states for d in _portfolio_drift(desired, s)],
    )


def _portfolio_drift(desired: DesiredCatalog, state: RegionState) -> list[str]:
    if state.portfolio is None:
        return [f"{state.region}: portfolio {desired.display_name!r} not published"]
    drift = [
        f"{state.region}: principal {kind} {arn} missing"
        for kind, arn in sorted(desired.principals - state.portfolio.principals)
    ]
    attached = {state.tag_options.get(kv) for kv in desired.tag_options}
    if not attached <= state.portfolio.tag_option_ids:
        drift.append(f"{state.region}: TagOptions missing from the portfolio")
    drift += [
        f"{state.region}: share {share.kind} {share.principal_id} missing"
        for share in desired.shares
        if (share.kind, share.principal_id) not in state.portfolio.shares
    ]
    return drift


def product_status(
    desired: DesiredCatalog,
    state: RegionState,
    product: DesiredProduct,
    history: dict[str, str],
) -> ProductStatus:
    current = state.products.get(product.name)
    status = ProductStatus(
        state.region, product.name, current.id if current else None, product.version
    )
    if current is None:
        status.drift.append("product not published")
        return status
    status.versions = _versions(current)
    status.drift = _association_drift(current, desired, product) + _version_drift(
        current, product, history
    )
    return status


def _versions(current: ProductState) -> list[VersionStatus]:
    by_id = {v.id: v for v in current.versions}
    ordered = newest_first([v.for_policy() for v in current.versions])
    return [
        VersionStatus(v.id, v.name, v.guidance, v.active, v.content_hash, v.rolled_back)
        for v in (by_id[r.key] for r in ordered)
    ]


def _association_drift(
    current: ProductState, desired: DesiredCatalog, product: DesiredProduct
) -> list[str]:
    if not current.associated:
        return ["missing from the portfolio"]
    drift = []
    launch = current.constraints_of("LAUNCH")
    if not launch:
        drift.append("LAUNCH constraint gone")
    elif not launch[0].holds(desired.launch_parameters_json):
        shown = launch[0].parameters_json or f"digest {launch[0].parameters_sha256}"
        drift.append(f"LAUNCH constraint is {shown}, config says {desired.launch_parameters_json}")
    have = {c.description: c for c in current.constraints_of("TEMPLATE")}
    for constraint in product.template_constraints:
        if constraint.description not in have:
            drift.append(f"TEMPLATE constraint {constraint.description!r} gone")
        elif not have[constraint.description].holds(constraint.rules_json):
            drift.append(f"TEMPLATE constraint {constraint.description!r} rules differ")
    return drift


def _version_drift(
    current: ProductState, product: DesiredProduct, history: dict[str, str]
) -> list[str]:
    expected = {**history, product.version: product.content_hash}
    drift = []
    for version in current.versions:
        want = expected.get(version.name)
        if want is not None and version.content_hash not in (None, want):
            drift.append(
                f"version {version.name} records hash {version.content_hash[:12]}, the build "
                f"has {want[:12]} (content changed without a version bump)"
            )
    if current.version_by_hash(product.content_hash) is None and not drift:
        drift.append(f"version {product.version} is built but not published")
    return drift
