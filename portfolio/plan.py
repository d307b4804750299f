"""The plan: desired state diffed against current state, object by object. Pure, no AWS calls.

Order matters and mirrors the apply order: uploads, portfolio, products, versions, retention,
associations (before any constraint: a known Service Catalog race), constraints, principals,
TagOptions, shares.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from portfolio.current import ConstraintState, ProductState, RegionState, VersionState
from portfolio.desired import DesiredCatalog, DesiredProduct
from portfolio.errors import PublishError, VersionConflictError
from portfolio.versions import VersionTarget, pending, retention_targets


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NO_CHANGE = "no change"


@dataclass(frozen=True)
class Change:
    region: str
    kind: str
    name: str
    action: Action
    detail: str = ""
    payload: dict[str, Any] = field(default_factory=dict, compare=False)


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


def plan_catalog(desired: DesiredCatalog, states: Iterable[RegionState]) -> Plan:
    """All regions' changes; raises before anything is written if any region is refused."""
    return Plan(tuple(c for state in states for c in plan_region(desired, state)))


def plan_region(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    steps: list[Callable[[DesiredCatalog, RegionState], list[Change]]] = [
        _plan_objects,
        _plan_portfolio,
        _plan_products,
        _plan_versions,
        _plan_retention,
        _plan_associations,
        _plan_launch_constraints,
        _plan_template_constraints,
        _plan_principals,
        _plan_tag_options,
        _plan_shares,
    ]
    return [change for step in steps for change in step(desired, state)]


def _plan_objects(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    bucket = desired.bucket(state.region)
    if not state.bucket_exists:
        raise PublishError(
            f"artifact bucket {bucket!r} does not exist in {state.region}; "
            "run `python build.py bootstrap` first"
        )
    return [
        Change(
            state.region,
            "object",
            f"s3://{bucket}/{a.key}",
            Action.NO_CHANGE if a.key in state.existing_keys else Action.CREATE,
            payload={"bucket": bucket, "key": a.key, "path": a.path},
        )
        for a in desired.artifacts
    ]


def _plan_portfolio(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    current = state.portfolio
    if current is None:
        return [Change(state.region, "portfolio", desired.display_name, Action.CREATE)]
    differences = [
        name
        for name, have, want in (
            ("description", current.description, desired.description),
            ("provider", current.provider_name, desired.provider_name),
        )
        if have != want
    ]
    add = {k: v for k, v in desired.tags.items() if current.tags.get(k) != v}
    differences += [f"tag {k}" for k in sorted(add)]
    action = Action.UPDATE if differences else Action.NO_CHANGE
    return [
        Change(
            state.region,
            "portfolio",
            desired.display_name,
            action,
            ", ".join(differences) or current.id,
            payload={
                "add_tags": add,
                "replace_tag_keys": sorted(k for k in add if k in current.tags),
            },
        )
    ]


def desired_metadata(product: DesiredProduct) -> dict[str, str]:
    return {
        "Owner": product.owner,
        "Description": product.description,
        "Distributor": product.distributor,
        "SupportEmail": product.support_email,
        "SupportUrl": product.support_url,
    }


def _plan_products(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name, product in desired.products.items():
        current = state.products.get(name)
        if current is None:
            changes.append(
                Change(
                    state.region, "product", name, Action.CREATE, f"with version {product.version}"
                )
            )
            continue
        wanted = desired_metadata(product)
        stale = sorted(k for k, v in wanted.items() if current.metadata.get(k, "") != v)
        changes.append(
            Change(
                state.region,
                "product",
                name,
                Action.UPDATE if stale else Action.NO_CHANGE,
                ", ".join(stale) or current.id,
            )
        )
    return changes


def _plan_versions(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name, product in desired.products.items():
        current = state.products.get(name)
        existing = current.version_by_hash(product.content_hash) if current else None
        label = f"{name} {product.version}"
        short = product.content_hash[:12]
        if existing is not None and current is not None:
            changes.append(_existing_version(state.region, current, existing, label, short))
            continue
        if current is not None:
            _refuse_reused_name(current, product, state.region)
        changes.append(
            Change(
                state.region,
                "version",
                label,
                Action.CREATE,
                f"hash {short}",
                payload={"product": name, "already_created": current is None},
            )
        )
    return changes


def _existing_version(
    region: str, current: ProductState, existing: VersionState, label: str, short: str
) -> Change:
    status = current.build_version_status
    if status == "FAILED":
        raise PublishError(
            f"{region}: {label} ({existing.id}) is FAILED in Service Catalog: its template "
            "could not be read; fix the cause, delete that version (DeleteProvisioningArtifact) "
            "and publish again"
        )
    if status == "CREATING":  # an interrupted run: finish it by waiting
        return Change(
            region,
            "version",
            label,
            Action.UPDATE,
            f"{existing.id} still CREATING",
            payload={"product": current.name, "already_created": True},
        )
    return Change(region, "version", label, Action.NO_CHANGE, f"{existing.id} hash {short}")


def _refuse_reused_name(current: ProductState, product: DesiredProduct, region: str) -> None:
    for version in current.versions_named(product.version):
        raise reused_name_error(product, region, version.content_hash)


def reused_name_error(
    product: DesiredProduct, region: str, recorded: str | None
) -> VersionConflictError:
    """The refusal to publish PRODUCT's content under a version name published with RECORDED."""
    shown = (recorded or "none recorded")[:12]
    return VersionConflictError(
        f"{product.name} version {product.version!r} is already published in {region} "
        f"with content hash {shown}, the build has {product.content_hash[:12]}: "
        f"versions are immutable; bump it (python build.py bump {product.name}) and "
        "build again"
    )


def _plan_retention(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name, product in desired.products.items():
        current = state.products.get(name)
        versions = current.versions if current else []
        ranked = [v.for_policy() for v in versions]
        new_key = f"hash:{product.content_hash}"
        if not any(v.content_hash == product.content_hash for v in versions):
            ranked.append(pending(new_key, product.version))
        targets = retention_targets(ranked, desired.retention)
        changes += _retention_changes(state.region, name, versions, targets)
        if new_key in targets:
            changes.append(
                _retention_change(
                    state.region,
                    name,
                    product.version,
                    new_key,
                    target=targets[new_key],
                    action=Action.CREATE,
                )
            )
    return changes


def _retention_changes(
    region: str, product: str, versions: list[VersionState], targets: dict[str, VersionTarget]
) -> list[Change]:
    changes = []
    for version in versions:
        target = targets[version.id]
        same = (version.active, version.guidance) == (target.active, target.guidance)
        changes.append(
            _retention_change(
                region,
                product,
                version.name,
                version.id,
                target=target,
                action=Action.NO_CHANGE if same else Action.UPDATE,
            )
        )
    return changes


def _retention_change(
    region: str, product: str, name: str, key: str, *, target: VersionTarget, action: Action
) -> Change:
    state = f"{target.guidance}{'' if target.active else ', inactive'}"
    return Change(
        region,
        "retention",
        f"{product} {name}",
        action,
        state,
        payload={
            "product": product,
            "version_key": key,
            "active": target.active,
            "guidance": target.guidance,
        },
    )


def _plan_associations(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name in desired.products:
        current = state.products.get(name)
        associated = bool(current and current.associated and state.portfolio)
        changes.append(
            Change(
                state.region, "association", name, Action.NO_CHANGE if associated else Action.CREATE
            )
        )
    return changes


def _plan_launch_constraints(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name in desired.products:
        current = _constraints(state, name, "LAUNCH")
        wanted = desired.launch_parameters_json
        payload: dict[str, Any]
        if not current:
            action, payload = Action.CREATE, {}
        elif current[0].parameters_json == wanted:
            action, payload = Action.NO_CHANGE, {}
        else:
            action, payload = Action.UPDATE, {"id": current[0].id}
        changes.append(
            Change(
                state.region,
                "launch-constraint",
                name,
                action,
                wanted,
                payload={"product": name, "parameters": wanted, **payload},
            )
        )
    return changes


def _constraints(state: RegionState, product: str, kind: str) -> list[ConstraintState]:
    current = state.products.get(product)
    return current.constraints_of(kind) if current else []


def _plan_template_constraints(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name, product in desired.products.items():
        current = {c.description: c for c in _constraints(state, name, "TEMPLATE")}
        for constraint in product.template_constraints:
            have = current.pop(constraint.description, None)
            action = (
                Action.CREATE
                if have is None
                else Action.NO_CHANGE
                if have.parameters_json == constraint.rules_json
                else Action.UPDATE
            )
            changes.append(
                Change(
                    state.region,
                    "template-constraint",
                    f"{name}: {constraint.description}",
                    action,
                    payload={
                        "product": name,
                        "description": constraint.description,
                        "parameters": constraint.rules_json,
                        "id": have.id if have else None,
                    },
                )
            )
        changes += [
            Change(
                state.region,
                "template-constraint",
                f"{name}: {stale.description}",
                Action.DELETE,
                "not in config",
                payload={"id": stale.id},
            )
            for stale in current.values()
        ]
    return changes


def _plan_principals(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    current = state.portfolio.principals if state.portfolio else set()
    changes = [
        Change(
            state.region,
            "principal",
            f"{kind} {arn}",
            Action.NO_CHANGE if (kind, arn) in current else Action.CREATE,
            payload={"type": kind, "arn": arn},
        )
        for kind, arn in sorted(desired.principals)
    ]
    changes += [
        Change(
            state.region,
            "principal",
            f"{kind} {arn}",
            Action.DELETE,
            "not in config",
            payload={"type": kind, "arn": arn},
        )
        for kind, arn in sorted(current - desired.principals)
    ]
    return changes


def _plan_tag_options(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    attached = state.portfolio.tag_option_ids if state.portfolio else set()
    changes = []
    for key, value in sorted(desired.tag_options):
        tag_option_id = state.tag_options.get((key, value))
        action = Action.NO_CHANGE if tag_option_id in attached else Action.CREATE
        changes.append(
            Change(
                state.region,
                "tag-option",
                f"{key}={value}",
                action,
                payload={"key": key, "value": value},
            )
        )
    return changes


def _plan_shares(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    current = state.portfolio.shares if state.portfolio else {}
    changes = []
    for share in desired.shares:
        # SharePrincipals applies to organization and OU shares only.
        principals = desired.share_principals and share.kind != "ACCOUNT"
        have = current.get((share.kind, share.principal_id))
        same = have is not None and (have.share_principals, have.share_tag_options) == (
            principals,
            desired.share_tag_options,
        )
        action = Action.CREATE if have is None else Action.NO_CHANGE if same else Action.UPDATE
        changes.append(
            Change(
                state.region,
                "share",
                f"{share.kind} {share.principal_id}",
                action,
                f"principals={principals} tag-options={desired.share_tag_options}",
                payload={
                    "kind": share.kind,
                    "principal_id": share.principal_id,
                    "share_principals": principals,
                    "share_tag_options": desired.share_tag_options,
                },
            )
        )
    return changes
