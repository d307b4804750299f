"""What plan hands to apply: one Change per object, typed by what it changes.

Each kind of change has one payload class carrying exactly what apply needs for the API call, so
a change can be followed from plan.py (where it is made) to apply.py (where its payload becomes
a call): ObjectUpload -> PutObject, ShareSettings -> Create/UpdatePortfolioShare, and so on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

from portfolio.errors import PublishError


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NO_CHANGE = "no change"


class Kind(enum.StrEnum):
    """What a change is about, in apply order (shown in plans as its value)."""

    OBJECT = "object"
    PORTFOLIO = "portfolio"
    PRODUCT = "product"
    VERSION = "version"
    RETENTION = "retention"
    ASSOCIATION = "association"
    LAUNCH_CONSTRAINT = "launch-constraint"
    TEMPLATE_CONSTRAINT = "template-constraint"
    PRINCIPAL = "principal"
    TAG_OPTION = "tag-option"
    SHARE = "share"


@dataclass(frozen=True)
class ObjectUpload:
    KIND: ClassVar[Kind] = Kind.OBJECT
    bucket: str
    key: str  # content-addressed: an existing key already holds these bytes
    path: Path


@dataclass(frozen=True)
class PortfolioTags:
    """A create takes everything from the desired state; an update adds and replaces tags."""

    KIND: ClassVar[Kind] = Kind.PORTFOLIO
    add_tags: tuple[tuple[str, str], ...] = ()  # (key, value), sorted by key
    replace_tag_keys: tuple[str, ...] = ()  # keys whose value changes: removed, then added


@dataclass(frozen=True)
class ProductRef:
    KIND: ClassVar[Kind] = Kind.PRODUCT
    product: str


@dataclass(frozen=True)
class VersionBuild:
    """The build's version of PRODUCT: created now, or (ALREADY_CREATED) only waited for."""

    KIND: ClassVar[Kind] = Kind.VERSION
    product: str
    already_created: bool


@dataclass(frozen=True)
class RetentionTarget:
    KIND: ClassVar[Kind] = Kind.RETENTION
    product: str
    version_key: str  # version id, or "hash:<sha>" for the version this publish creates
    active: bool
    guidance: str  # DEFAULT | DEPRECATED


@dataclass(frozen=True)
class ProductAssociation:
    KIND: ClassVar[Kind] = Kind.ASSOCIATION
    product: str


@dataclass(frozen=True)
class LaunchConstraintParams:
    KIND: ClassVar[Kind] = Kind.LAUNCH_CONSTRAINT
    product: str
    parameters: str  # compact JSON: {"LocalRoleName": ...} or {"RoleArn": ...}
    constraint_id: str | None = None  # the existing constraint an update changes


@dataclass(frozen=True)
class TemplateConstraintParams:
    KIND: ClassVar[Kind] = Kind.TEMPLATE_CONSTRAINT
    product: str
    description: str
    parameters: str  # compact JSON: {"Rules": ...}
    constraint_id: str | None = None  # the existing constraint an update or delete changes


@dataclass(frozen=True)
class PrincipalRef:
    KIND: ClassVar[Kind] = Kind.PRINCIPAL
    principal_type: str  # IAM | IAM_PATTERN
    arn: str


@dataclass(frozen=True)
class TagOptionPair:
    KIND: ClassVar[Kind] = Kind.TAG_OPTION
    key: str
    value: str


@dataclass(frozen=True)
class ShareSettings:
    KIND: ClassVar[Kind] = Kind.SHARE
    share_type: str  # ACCOUNT | ORGANIZATIONAL_UNIT | ORGANIZATION
    principal_id: str
    share_principals: bool  # organization and OU shares only
    share_tag_options: bool


Payload = (
    ObjectUpload
    | PortfolioTags
    | ProductRef
    | VersionBuild
    | RetentionTarget
    | ProductAssociation
    | LaunchConstraintParams
    | TemplateConstraintParams
    | PrincipalRef
    | TagOptionPair
    | ShareSettings
)
P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class Change:
    region: str
    name: str
    action: Action
    payload: Payload
    detail: str = ""

    @property
    def kind(self) -> Kind:
        return self.payload.KIND

    def payload_as(self, expected: type[P]) -> P:
        """The payload, typed; a mismatch is a bug in the plan, reported as such."""
        if not isinstance(self.payload, expected):
            raise PublishError(
                f"internal: {self.region}: {self.kind} {self.name!r} carries "
                f"{type(self.payload).__name__}, not {expected.__name__}"
            )
        return self.payload


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NO_CHANGE]

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def for_region(self, region: str) -> list[Change]:
        return [c for c in self.changes if c.region == region]
