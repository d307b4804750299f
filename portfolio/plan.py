"""The plan: desired state diffed against current state, object by object. Pure, no AWS calls.

Order matters and mirrors the apply order: uploads, portfolio, products, versions, retention,
associations (before any constraint: a known Service Catalog race), constraints, principals,
TagOptions, shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from portfolio.changes import (
    Action,
    Change,
    LaunchConstraintParams,
    ObjectUpload,
    Plan,
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
from portfolio.current import ConstraintState, ProductState, RegionState, VersionState
from portfolio.desired import DesiredCatalog, DesiredProduct
from portfolio.errors import PublishError, VersionConflictError
from portfolio.versions import VersionTarget, pending, retention_targets


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
            f"s3://{bucket}/{a.key}",
            Action.NO_CHANGE if a.key in state.existing_keys else Action.CREATE,
            ObjectUpload(bucket, a.key, a.path),
        )
        for a in desired.artifacts
    ]


def _plan_portfolio(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    current = state.portfolio
    if current is None:
        return [Change(state.region, desired.display_name, Action.CREATE, PortfolioTags())]
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
            desired.display_name,
            action,
            PortfolioTags(
                add_tags=tuple(sorted(add.items())),
                replace_tag_keys=tuple(sorted(k for k in add if k in current.tags)),
            ),
            ", ".join(differences) or current.id,
        )
    ]


def _plan_products(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name, product in desired.products.items():
        current = state.products.get(name)
        if current is None:
            changes.append(
                Change(
                    state.region,
                    name,
                    Action.CREATE,
                    ProductRef(name),
                    f"with version {product.version}",
                )
            )
            continue
        wanted = product.metadata()
        stale = sorted(k for k, v in wanted.items() if current.metadata.get(k, "") != v)
        changes.append(
            Change(
                state.region,
                name,
                Action.UPDATE if stale else Action.NO_CHANGE,
                ProductRef(name),
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
                label,
                Action.CREATE,
                VersionBuild(name, already_created=current is None),
                f"hash {short}",
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
            label,
            Action.UPDATE,
            VersionBuild(current.name, already_created=True),
            f"{existing.id} still CREATING",
        )
    return Change(
        region,
        label,
        Action.NO_CHANGE,
        VersionBuild(current.name, already_created=True),
        f"{existing.id} hash {short}",
    )


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
        f"{product} {name}",
        action,
        RetentionTarget(product, key, active=target.active, guidance=target.guidance),
        state,
    )


def _plan_associations(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name in desired.products:
        current = state.products.get(name)
        associated = bool(current and current.associated and state.portfolio)
        changes.append(
            Change(
                state.region,
                name,
                Action.NO_CHANGE if associated else Action.CREATE,
                ProductAssociation(name),
            )
        )
    return changes


def _plan_launch_constraints(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    changes = []
    for name in desired.products:
        current = _constraints(state, name, "LAUNCH")
        wanted = desired.launch_parameters_json
        existing_id = None
        if not current:
            action = Action.CREATE
        elif current[0].holds(wanted):
            action = Action.NO_CHANGE
        else:
            action, existing_id = Action.UPDATE, current[0].id
        changes.append(
            Change(
                state.region,
                name,
                action,
                LaunchConstraintParams(name, wanted, constraint_id=existing_id),
                wanted,
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
                if have.holds(constraint.rules_json)
                else Action.UPDATE
            )
            changes.append(
                Change(
                    state.region,
                    f"{name}: {constraint.description}",
                    action,
                    TemplateConstraintParams(
                        name,
                        constraint.description,
                        constraint.rules_json,
                        constraint_id=have.id if have else None,
                    ),
                )
            )
        changes += [
            Change(
                state.region,
                f"{name}: {stale.description}",
                Action.DELETE,
                TemplateConstraintParams(
                    name, stale.description, stale.parameters_json, constraint_id=stale.id
                ),
                "not in config",
            )
            for stale in current.values()
        ]
    return changes


def _plan_principals(desired: DesiredCatalog, state: RegionState) -> list[Change]:
    current = state.portfolio.principals if state.portfolio else set()
    changes = [
        Change(
            state.region,
            f"{kind} {arn}",
            Action.NO_CHANGE if (kind, arn) in current else Action.CREATE,
            PrincipalRef(kind, arn),
        )
        for kind, arn in sorted(desired.principals)
    ]
    changes += [
        Change(
            state.region,
            f"{kind} {arn}",
            Action.DELETE,
            PrincipalRef(kind, arn),
            "not in config",
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
        changes.append(Change(state.region, f"{key}={value}", action, TagOptionPair(key, value)))
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
                f"{share.kind} {share.principal_id}",
                action,
                ShareSettings(
                    share.kind,
                    share.principal_id,
                    share_principals=principals,
                    share_tag_options=desired.share_tag_options,
                ),
                f"principals={principals} tag-options={desired.share_tag_options}",
            )
        )
    return changes
