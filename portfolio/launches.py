"""Launches: the provisioned products of the catalog's products, per environment, with the version
each runs and whether a newer one is published (the one `launch` would move it to)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from portfolio.current import find_product_ids
from portfolio.errors import PublishError
from portfolio.launch import launch_version, provisioned_product_name


@dataclass(frozen=True)
class Launched:
    """One provisioned product of ours."""

    environment: str
    product: str
    instance: str | None  # None: the default instance
    name: str
    status: str
    version: str
    newest: str | None  # the version `launch` would move it to (None: none launchable)

    @property
    def newer_published(self) -> bool:
        return self.newest is not None and _order(self.newest) > _order(self.version)


def _order(version: str) -> tuple[int, ...]:
    parts = version.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (-1,)


def list_launches(
    sc: Any, region: str, products: list[str], environments: list[str]
) -> list[Launched]:
    """Our provisioned products in ENVIRONMENTS (in that order, then by product and instance)."""
    ids = find_product_ids(sc, set(products))
    names = {product_id: product for product, product_id in ids.items()}
    newest = {product: _newest(sc, region, product, pid) for product, pid in ids.items()}
    found = []
    for attributes in _provisioned_products(sc):
        product = names.get(str(attributes.get("ProductId", "")))
        where = _environment_of(str(attributes["Name"]), product, environments) if product else None
        if product is None or where is None:
            continue
        found.append(
            Launched(
                environment=where[0],
                product=product,
                instance=where[1],
                name=str(attributes["Name"]),
                status=str(attributes.get("Status", "")),
                version=str(attributes.get("ProvisioningArtifactName") or "?"),
                newest=newest[product],
            )
        )
    order = {env: index for index, env in enumerate(environments)}
    return sorted(found, key=lambda x: (order[x.environment], x.product, x.instance or ""))


def _newest(sc: Any, region: str, product: str, product_id: str) -> str | None:
    try:
        return launch_version(sc, region, product, product_id).name
    except PublishError:  # no active DEFAULT version: nothing to move to
        return None


def _provisioned_products(sc: Any) -> list[dict[str, Any]]:
    # AccessLevelFilter Account: every provisioned product of the account, not only the caller's.
    listed: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        extra = {"PageToken": token} if token else {}
        page = sc.search_provisioned_products(
            AccessLevelFilter={"Key": "Account", "Value": "self"}, PageSize=100, **extra
        )
        listed += page.get("ProvisionedProducts", [])
        token = page.get("NextPageToken")
        if not token:
            return listed


def _environment_of(
    name: str, product: str, environments: list[str]
) -> tuple[str, str | None] | None:
    """(environment, instance) NAME stands for: the default instance's name
    (<product>-<env>) or a named one's (<product>-<instance>-<env>). The longest environment
    wins (an environment may end another)."""
    matches: list[tuple[int, str, str | None]] = []
    for environment in environments:
        if name == provisioned_product_name(product, environment):
            matches.append((len(environment), environment, None))
            continue
        head, tail = f"{product}-", f"-{environment}"
        named = name[len(head) : -len(tail)] if name.endswith(tail) else ""
        if name.startswith(head) and named:
            matches.append((len(environment), environment, named))
    if not matches:
        return None
    _, environment, instance = max(matches, key=lambda match: match[0])
    return environment, instance


def launches_table(launched: list[Launched]) -> str:
    if not launched:
        return "no provisioned products of the catalog's products"
    header = ("ENVIRONMENT", "PRODUCT", "INSTANCE", "VERSION", "STATUS", "NEWER PUBLISHED")
    rows = [header] + [
        (
            x.environment,
            x.product,
            x.instance or "-",
            x.version,
            x.status,
            x.newest if x.newer_published and x.newest else "no",
        )
        for x in launched
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def launches_json(launched: list[Launched]) -> str:
    return json.dumps(
        [{**asdict(x), "newer_published": x.newer_published} for x in launched], indent=2
    )
