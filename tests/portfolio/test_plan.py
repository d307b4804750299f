"""The plan is a pure diff: desired state against a hand-built current state."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from portfolio.changes import (
    Action,
    Change,
    LaunchConstraintParams,
    ShareSettings,
    VersionBuild,
)
from portfolio.current import (
    ConstraintState,
    PortfolioState,
    ProductState,
    RegionState,
    VersionState,
)
from portfolio.desired import DesiredCatalog, desired_catalog, version_description
from portfolio.errors import PublishError, VersionConflictError
from portfolio.plan import plan_region

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def build(make_dist: Any) -> Any:
    def desired(
        tmp_path: Path, portfolio: dict[str, Any], versions: dict[str, tuple[str, str]]
    ) -> DesiredCatalog:
        tmp_path.mkdir(parents=True, exist_ok=True)
        return desired_catalog(portfolio, make_dist(tmp_path, versions), tmp_path, commit="abc123")

    return desired


def _version(vid: str, name: str, content_hash: str, minutes: int, **kw: Any) -> VersionState:
    fields = {"active": True, "guidance": "DEFAULT", **kw}
    return VersionState(
        id=vid,
        name=name,
        description=version_description(content_hash, "c"),
        created=T0 + dt.timedelta(minutes=minutes),
        **fields,
    )


def converged(desired: DesiredCatalog) -> RegionState:
    """The region state a complete publish of DESIRED leaves behind."""
    tag_options = {kv: f"tag-{i}" for i, kv in enumerate(sorted(desired.tag_options))}
    products = {}
    for i, (name, product) in enumerate(desired.products.items()):
        constraints = [
            ConstraintState(f"c-{name}", "LAUNCH", "launch", desired.launch_parameters_json)
        ]
        constraints += [
            ConstraintState(f"t-{name}-{j}", "TEMPLATE", c.description, c.rules_json)
            for j, c in enumerate(product.template_constraints)
        ]
        products[name] = ProductState(
            id=f"prod-{i}",
            name=name,
            metadata=product.metadata(),
            versions=[_version(f"pa-{name}", product.version, product.content_hash, 0)],
            tag_option_ids=set(),
            associated=True,
            constraints=constraints,
        )
    portfolio = PortfolioState(
        id="port-1",
        display_name=desired.display_name,
        description=desired.description,
        provider_name=desired.provider_name,
        tags=dict(desired.tags),
        tag_option_ids=set(tag_options.values()),
        principals=set(desired.principals),
        shares={},
    )
    keys = {a.key for a in desired.artifacts}
    return RegionState("us-east-1", True, keys, portfolio, products, tag_options)


def _pending(changes: list[Change]) -> list[tuple[str, str, Action]]:
    return [(c.kind, c.name, c.action) for c in changes if c.action is not Action.NO_CHANGE]


@pytest.fixture
def desired(tmp_path: Path, portfolio_config: dict[str, Any], build: Any) -> DesiredCatalog:
    return build(tmp_path, portfolio_config, {"alpha": ("1.0.0", "a1"), "beta": ("2.1.0", "b1")})


def test_empty_region_plans_every_object_in_apply_order(desired: DesiredCatalog) -> None:
    state = RegionState("us-east-1", True, set(), None, {}, {})
    changes = plan_region(desired, state)
    assert all(c.action is Action.CREATE for c in changes)
    kinds = [c.kind for c in changes]
    assert kinds.index("association") > kinds.index("version")
    assert max(i for i, k in enumerate(kinds) if k == "association") < kinds.index(
        "launch-constraint"
    )
    assert kinds.count("object") == 4
    assert kinds.count("principal") == 2
    assert kinds.count("tag-option") == 3
    assert kinds.count("template-constraint") == 1
    version_changes = [c for c in changes if c.kind == "version"]
    assert all(c.payload_as(VersionBuild).already_created for c in version_changes)


def test_converged_region_plans_no_change(desired: DesiredCatalog) -> None:
    assert _pending(plan_region(desired, converged(desired))) == []


def test_missing_bucket_is_refused_with_the_bootstrap_hint(desired: DesiredCatalog) -> None:
    state = RegionState("us-east-1", False, set(), None, {}, {})
    with pytest.raises(PublishError, match=r"test-artifacts-us-east-1.*build.py bootstrap"):
        plan_region(desired, state)


def test_new_content_under_existing_version_name_is_refused(
    tmp_path: Path, portfolio_config: dict[str, Any], build: Any, desired: DesiredCatalog
) -> None:
    state = converged(desired)
    changed = build(
        tmp_path / "v2", portfolio_config, {"alpha": ("1.0.0", "a2"), "beta": ("2.1.0", "b1")}
    )
    refusal = r"alpha version '1.0.0'.*bump.*build.py bump alpha"
    with pytest.raises(VersionConflictError, match=refusal):
        plan_region(changed, state)


def test_bumped_version_plans_exactly_one_new_version(
    tmp_path: Path, portfolio_config: dict[str, Any], build: Any, desired: DesiredCatalog
) -> None:
    state = converged(desired)
    bumped = build(
        tmp_path / "v2", portfolio_config, {"alpha": ("1.1.0", "a2"), "beta": ("2.1.0", "b1")}
    )
    pending = _pending(plan_region(bumped, state))
    assert ("version", "alpha 1.1.0", Action.CREATE) in pending
    assert [p for p in pending if p[0] == "version"] == [("version", "alpha 1.1.0", Action.CREATE)]
    # Two uploads (template and package of alpha), the version and its retention settings.
    assert sorted(p[0] for p in pending) == ["object", "object", "retention", "version"]


def test_retention_deprecates_beyond_keep_and_deactivates_beyond_limit(
    desired: DesiredCatalog,
) -> None:
    state = converged(desired)
    alpha = desired.products["alpha"]
    state.products["alpha"].versions = [
        _version("pa-old1", "0.1.0", "1" * 64, 0),
        _version("pa-old2", "0.2.0", "2" * 64, 1),
        _version("pa-old3", "0.3.0", "3" * 64, 2),
        _version("pa-cur", alpha.version, alpha.content_hash, 3),
    ]
    retention = {c.name: c.detail for c in plan_region(desired, state) if c.kind == "retention"}
    assert retention["alpha 1.0.0"] == "DEFAULT"
    assert retention["alpha 0.3.0"] == "DEFAULT"
    assert retention["alpha 0.2.0"] == "DEPRECATED"
    assert retention["alpha 0.1.0"] == "DEPRECATED, inactive"


def test_versions_order_by_number_not_text(desired: DesiredCatalog) -> None:
    state = converged(desired)
    alpha = desired.products["alpha"]
    state.products["alpha"].versions = [
        _version("pa-10", "0.10.0", "1" * 64, 0),
        _version("pa-9", "0.9.0", "2" * 64, 1),
        _version("pa-cur", alpha.version, alpha.content_hash, 2),
    ]
    retention = {c.name: c.detail for c in plan_region(desired, state) if c.kind == "retention"}
    assert retention["alpha 0.10.0"] == "DEFAULT"
    assert retention["alpha 0.9.0"] == "DEPRECATED"


def test_rolled_back_version_stays_deprecated(desired: DesiredCatalog) -> None:
    state = converged(desired)
    alpha = desired.products["alpha"]
    current = dataclasses.replace(
        _version("pa-cur", alpha.version, alpha.content_hash, 5, guidance="DEPRECATED"),
        description=version_description(alpha.content_hash, "c") + " rolled-back",
    )
    state.products["alpha"].versions = [_version("pa-old", "0.9.0", "9" * 64, 0), current]
    assert _pending(plan_region(desired, state)) == []


def test_changed_rules_update_and_unknown_template_constraint_is_deleted(
    desired: DesiredCatalog,
) -> None:
    state = converged(desired)
    alpha = state.products["alpha"]
    alpha.constraints = [
        c if c.type == "LAUNCH" else dataclasses.replace(c, parameters_json='{"Rules":{}}')
        for c in alpha.constraints
    ] + [ConstraintState("t-stale", "TEMPLATE", "old rule", '{"Rules":{}}')]
    assert _pending(plan_region(desired, state)) == [
        ("template-constraint", "alpha: prod needs an on-call topic", Action.UPDATE),
        ("template-constraint", "alpha: old rule", Action.DELETE),
    ]


def test_launch_role_change_updates_the_constraint(
    tmp_path: Path, portfolio_config: dict[str, Any], build: Any, desired: DesiredCatalog
) -> None:
    state = converged(desired)
    portfolio_config["launch_role"] = {"role_arn": "arn:aws:iam::123456789012:role/Other"}
    changed = build(
        tmp_path / "v2", portfolio_config, {"alpha": ("1.0.0", "a1"), "beta": ("2.1.0", "b1")}
    )
    pending = [c for c in plan_region(changed, state) if c.action is not Action.NO_CHANGE]
    assert [(c.kind, c.action) for c in pending] == [("launch-constraint", Action.UPDATE)] * 2
    assert pending[0].payload_as(LaunchConstraintParams).constraint_id == "c-alpha"


def test_metadata_drift_and_extra_principal(desired: DesiredCatalog) -> None:
    state = converged(desired)
    state.products["beta"].metadata["Owner"] = "someone else"
    assert state.portfolio is not None
    state.portfolio.principals.add(("IAM", "arn:aws:iam::123456789012:role/Intruder"))
    state.portfolio.description = "old text"
    assert _pending(plan_region(desired, state)) == [
        ("portfolio", desired.display_name, Action.UPDATE),
        ("product", "beta", Action.UPDATE),
        ("principal", "IAM arn:aws:iam::123456789012:role/Intruder", Action.DELETE),
    ]


def test_shares_create_then_update_flags(
    tmp_path: Path, portfolio_config: dict[str, Any], build: Any
) -> None:
    portfolio_config["shares"] = {
        "accounts": ["111122223333"],
        "organization_id": "o-abcdefghij",
        "share_principals": True,
        "share_tag_options": False,
    }
    desired = build(tmp_path, portfolio_config, {"alpha": ("1.0.0", "a1")})
    state = converged(desired)
    shares = [c for c in plan_region(desired, state) if c.kind == "share"]
    assert [(c.name, c.action) for c in shares] == [
        ("ACCOUNT 111122223333", Action.CREATE),
        ("ORGANIZATION o-abcdefghij", Action.CREATE),
    ]
    flags = [c.payload_as(ShareSettings).share_principals for c in shares]
    assert flags == [False, True]  # SharePrincipals is not allowed on account shares


def test_failed_build_version_is_refused_and_creating_one_is_awaited(
    desired: DesiredCatalog,
) -> None:
    state = converged(desired)
    state.products["alpha"].build_version_status = "CREATING"
    assert _pending(plan_region(desired, state)) == [("version", "alpha 1.0.0", Action.UPDATE)]
    state.products["alpha"].build_version_status = "FAILED"
    with pytest.raises(PublishError, match=r"alpha 1.0.0 \(pa-alpha\) is FAILED"):
        plan_region(desired, state)
