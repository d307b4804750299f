"""The Service Catalog resources held in memory, each able to render its API shapes."""

import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id(prefix: str) -> str:
    """IDs look like the service's: a prefix and 13 lowercase letters/digits (port-abcd...)."""
    return prefix + "-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(13))


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


@dataclass
class Portfolio:
    id: str
    arn: str
    display_name: str
    provider_name: str
    description: str | None = None
    created_time: float = field(default_factory=time.time)
    tags: dict[str, str] = field(default_factory=dict)
    product_ids: list[str] = field(default_factory=list)
    principals: dict[str, str] = field(default_factory=dict)  # principal ARN -> IAM | IAM_PATTERN
    tag_option_ids: list[str] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "Id": self.id,
            "ARN": self.arn,
            "DisplayName": self.display_name,
            "CreatedTime": self.created_time,
            "ProviderName": self.provider_name,
        }
        if self.description is not None:
            detail["Description"] = self.description
        return detail


@dataclass
class ProvisioningArtifact:
    id: str
    name: str
    description: str
    type: str
    template_url: str
    created_time: float = field(default_factory=time.time)
    active: bool = True
    guidance: str = "DEFAULT"
    status: str = "CREATING"
    failure: str | None = None
    template: dict[str, Any] | None = None

    def detail(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "Type": self.type,
            "CreatedTime": self.created_time,
            "Active": self.active,
            "Guidance": self.guidance,
        }

    def summary(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "CreatedTime": self.created_time,
            "ProvisioningArtifactMetadata": {},
        }

    def end_user_view(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "CreatedTime": self.created_time,
            "Guidance": self.guidance,
        }


@dataclass
class Product:
    id: str
    arn: str
    view_id: str
    name: str
    owner: str
    type: str
    description: str = ""
    distributor: str = ""
    support_description: str = ""
    support_email: str = ""
    support_url: str = ""
    created_time: float = field(default_factory=time.time)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, ProvisioningArtifact] = field(default_factory=dict)
    tag_option_ids: list[str] = field(default_factory=list)

    def view_summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "Id": self.view_id,
            "ProductId": self.id,
            "Name": self.name,
            "Owner": self.owner,
            "ShortDescription": self.description,
            "Type": self.type,
            "Distributor": self.distributor,
            "HasDefaultPath": False,
        }
        optional = {
            "SupportEmail": self.support_email,
            "SupportDescription": self.support_description,
            "SupportUrl": self.support_url,
        }
        summary.update({key: value for key, value in optional.items() if value})
        return summary

    def status(self) -> str:
        statuses = {artifact.status for artifact in self.artifacts.values()}
        if "AVAILABLE" in statuses:
            return "AVAILABLE"
        return "CREATING" if "CREATING" in statuses else "FAILED"

    def view_detail(self) -> dict[str, Any]:
        return {
            "ProductViewSummary": self.view_summary(),
            "Status": self.status(),
            "ProductARN": self.arn,
            "CreatedTime": self.created_time,
        }


@dataclass
class Constraint:
    id: str
    type: str
    owner: str
    product_id: str
    portfolio_id: str
    parameters: str
    description: str = ""

    def detail(self) -> dict[str, Any]:
        return {
            "ConstraintId": self.id,
            "Type": self.type,
            "Description": self.description,
            "Owner": self.owner,
            "ProductId": self.product_id,
            "PortfolioId": self.portfolio_id,
        }

    def summary(self) -> dict[str, str]:
        return {"Type": self.type, "Description": self.description}


@dataclass
class TagOption:
    id: str
    key: str
    value: str
    owner: str
    active: bool = True

    def detail(self) -> dict[str, Any]:
        return {
            "Key": self.key,
            "Value": self.value,
            "Active": self.active,
            "Id": self.id,
            "Owner": self.owner,
        }


@dataclass
class PortfolioShare:
    """One share of a portfolio; type is ACCOUNT, ORGANIZATION or ORGANIZATIONAL_UNIT."""

    portfolio_id: str
    type: str
    principal_id: str
    share_tag_options: bool
    share_principals: bool
    accepted: bool = False

    def detail(self) -> dict[str, Any]:
        return {
            "PrincipalId": self.principal_id,
            "Type": self.type,
            "Accepted": self.accepted,
            "ShareTagOptions": self.share_tag_options,
            "SharePrincipals": self.share_principals,
        }


@dataclass
class ShareOperation:
    """An asynchronous organization-node share (or unshare) a client polls with its token."""

    token: str
    portfolio_id: str
    node_value: str
    status: str = "IN_PROGRESS"

    def status_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "PortfolioShareToken": self.token,
            "PortfolioId": self.portfolio_id,
            "OrganizationNodeValue": self.node_value,
            "Status": self.status,
        }
        if self.status == "COMPLETED":
            document["ShareDetails"] = {"SuccessfulShares": [self.node_value], "ShareErrors": []}
        return document
