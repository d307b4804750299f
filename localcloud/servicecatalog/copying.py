"""CopyProduct: copy a product (or some of its versions) into this region, asynchronously.

Only copies within one account are emulated (AWS also copies from products shared with you).
"""

import copy
from dataclasses import dataclass, field
from typing import Any

from .admin import AdminBackend, run_later
from .entities import Product, ProvisioningArtifact, new_id
from .exceptions import InvalidParametersException, ResourceNotFoundException

# Copies take minutes on AWS; half a second keeps IN_PROGRESS observable locally.
COPY_DELAY_SECONDS = 0.5


@dataclass
class CopyOperation:
    token: str
    status: str = "IN_PROGRESS"
    target_product_id: str | None = None
    detail: str = ""
    artifacts: list[ProvisioningArtifact] = field(default_factory=list)

    def status_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"CopyProductStatus": self.status, "StatusDetail": self.detail}
        if self.target_product_id:
            document["TargetProductId"] = self.target_product_id
        return document


def split_product_arn(arn: str) -> tuple[str, str, str]:
    """(region, account, product id) of arn:aws:catalog:REGION:ACCOUNT:product/prod-..."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "catalog" or not parts[5].startswith("product/"):
        raise InvalidParametersException(f"SourceProductArn {arn!r} is not a product ARN.")
    return parts[3], parts[4], parts[5].removeprefix("product/")


def _chosen_artifacts(
    source: Product, identifiers: list[dict[str, str]]
) -> list[ProvisioningArtifact]:
    if not identifiers:
        return list(source.artifacts.values())
    chosen = []
    for identifier in identifiers:
        artifact = source.artifacts.get(identifier.get("Id", ""))
        if artifact is None:
            raise ResourceNotFoundException(
                f"Provisioning artifact {identifier.get('Id')} not found in product {source.id}."
            )
        chosen.append(artifact)
    return chosen


def _copy_of(artifact: ProvisioningArtifact) -> ProvisioningArtifact:
    duplicate = copy.deepcopy(artifact)
    duplicate.id = new_id("pa")
    return duplicate


def _target_product(target: AdminBackend, source: Product, params: dict[str, Any]) -> Product:
    if params.get("TargetProductId"):
        return target.product(params["TargetProductId"])
    product_id = new_id("prod")
    product = copy.deepcopy(source)
    product.id, product.view_id = product_id, new_id("prodview")
    product.arn = f"arn:aws:catalog:{target.region}:{target.account_id}:product/{product_id}"
    product.name = params.get("TargetProductName") or source.name
    product.artifacts, product.tag_option_ids = {}, []
    if "CopyTags" not in (params.get("CopyOptions") or []):
        product.tags = {}
    return product


def start_copy(target: AdminBackend, source: AdminBackend, params: dict[str, Any]) -> CopyOperation:
    _, account, product_id = split_product_arn(params["SourceProductArn"])
    if account != target.account_id:
        raise InvalidParametersException("Copying products from another account is not emulated.")
    source_product = source.product(product_id)
    artifacts = [
        _copy_of(a)
        for a in _chosen_artifacts(
            source_product, params.get("SourceProvisioningArtifactIdentifiers") or []
        )
    ]
    product = _target_product(target, source_product, params)
    operation = CopyOperation(token=new_id("copyproduct"), artifacts=artifacts)
    target.copy_operations[operation.token] = operation
    run_later(lambda: _finish_copy(target, product, operation), COPY_DELAY_SECONDS)
    return operation


def _finish_copy(target: AdminBackend, product: Product, operation: CopyOperation) -> None:
    with target.lock:
        if target.retired:
            return
        target.products.setdefault(product.id, product)
        for artifact in operation.artifacts:
            target.products[product.id].artifacts[artifact.id] = artifact
        operation.target_product_id, operation.status = product.id, "SUCCEEDED"
