"""The plan, change by change: every field of every Change (region, name, action, payload, detail)
for a new region, a converged one and each kind of drift, plus the Plan object's API.

test_plan.py checks the plan's shape; these pin its content, so that product creation, shares,
tag drift and the Plan API are covered by fast unit tests rather than only by end-to-end
publishes (gaps a mutation run found, docs/testing.md).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

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
from portfolio.current import ConstraintState, RegionState, ShareState
from portfolio.desired import DesiredCatalog, desired_catalog
from portfolio.errors import PublishError, VersionConflictError
from portfolio.plan import plan_catalog, plan_region
from tests.portfolio.test_plan import _version, converged

REGION = "us-east-1"
LAUNCH = '{"LocalRoleName":"OncallCatalogLaunchRole"}'
PRINCIPALS = [
    ("IAM", "arn:aws:iam::123456789012:role/Oncall"),
    ("IAM_PATTERN", "arn:aws:iam:::role/PlatformEngineer*"),
]
TAG_OPTIONS = [("cost-center", "ops"), ("cost-center", "sre"), ("team", "platform")]


@pytest.fixture
def make(tmp_path: Path, portfolio_config: dict[str, Any], make_dist: Any) -> Any:
    def desired(versions: dict[str, tuple[str, str]], **portfolio: Any) -> DesiredCatalog:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        config = {**portfolio_config, **portfolio}
        return desired_catalog(config, make_dist(folder, versions), folder, commit="abc123")

    return desired


@pytest.fixture
def desired(make: Any) -> DesiredCatalog:
    return make({"alpha": ("1.0.0", "a1"), "beta": ("2.1.0", "b1")})


def empty_region(region: str = REGION) -> RegionState:
    return RegionState(region, True, set(), None, {}, {})


def rows(changes: list[Change]) -> list[tuple[Any, ...]]:
    return [(c.region, c.name, c.action, c.payload, c.detail) for c in changes]


def of_kind(changes: list[Change], kind: str) -> list[tuple[Any, ...]]:
    return rows([c for c in changes if c.kind == kind])


def test_a_new_region_creates_everything_with_what_apply_needs(desired: DesiredCatalog) -> None:
    changes = plan_region(desired, empty_region())
    bucket = "test-artifacts-us-east-1"
    alpha, beta = desired.products["alpha"], desired.products["beta"]
    rules = alpha.template_constraints[0].rules_json
    C = Action.CREATE
    assert rows(changes) == [
        *[
            (REGION, f"s3://{bucket}/{a.key}", C, ObjectUpload(bucket, a.key, a.path), "")
            for a in desired.artifacts
        ],
        (REGION, "On-call Tools (test)", C, PortfolioTags(), ""),
        (REGION, "alpha", C, ProductRef("alpha"), "with version 1.0.0"),
        (REGION, "beta", C, ProductRef("beta"), "with version 2.1.0"),
        (REGION, "alpha 1.0.0", C, VersionBuild("alpha", True), f"hash {alpha.content_hash[:12]}"),
        (REGION, "beta 2.1.0", C, VersionBuild("beta", True), f"hash {beta.content_hash[:12]}"),
        (
            REGION,
            "alpha 1.0.0",
            C,
            RetentionTarget("alpha", f"hash:{alpha.content_hash}", active=True, guidance="DEFAULT"),
            "DEFAULT",
        ),
        (
            REGION,
            "beta 2.1.0",
            C,
            RetentionTarget("beta", f"hash:{beta.content_hash}", active=True, guidance="DEFAULT"),
            "DEFAULT",
        ),
        (REGION, "alpha", C, ProductAssociation("alpha"), ""),
        (REGION, "beta", C, ProductAssociation("beta"), ""),
        (REGION, "alpha", C, LaunchConstraintParams("alpha", LAUNCH), LAUNCH),
        (REGION, "beta", C, LaunchConstraintParams("beta", LAUNCH), LAUNCH),
        (
            REGION,
            "alpha: prod needs an on-call topic",
            C,
            TemplateConstraintParams("alpha", "prod needs an on-call topic", rules),
            "",
        ),
        *[(REGION, f"{k} {a}", C, PrincipalRef(k, a), "") for k, a in PRINCIPALS],
        *[(REGION, f"{k}={v}", C, TagOptionPair(k, v), "") for k, v in TAG_OPTIONS],
    ]


def test_a_converged_region_changes_nothing_and_says_what_it_found(
    desired: DesiredCatalog,
) -> None:
    state = converged(desired)
    changes = plan_region(desired, state)
    assert {c.action for c in changes} == {Action.NO_CHANGE}
    alpha = desired.products["alpha"]
    assert of_kind(changes, "portfolio") == [
        (REGION, "On-call Tools (test)", Action.NO_CHANGE, PortfolioTags(), "port-1")
    ]
    assert of_kind(changes, "product")[0] == (
        REGION,
        "alpha",
        Action.NO_CHANGE,
        ProductRef("alpha"),
        "prod-0",
    )
    assert of_kind(changes, "version")[0] == (
        REGION,
        "alpha 1.0.0",
        Action.NO_CHANGE,
        VersionBuild("alpha", True),
        f"pa-alpha hash {alpha.content_hash[:12]}",
    )
    assert of_kind(changes, "retention")[0] == (
        REGION,
        "alpha 1.0.0",
        Action.NO_CHANGE,
        RetentionTarget("alpha", "pa-alpha", active=True, guidance="DEFAULT"),
        "DEFAULT",
    )
    assert of_kind(changes, "launch-constraint")[0] == (
        REGION,
        "alpha",
        Action.NO_CHANGE,
        LaunchConstraintParams("alpha", LAUNCH),
        LAUNCH,
    )
    [template] = of_kind(changes, "template-constraint")
    assert template[3].constraint_id == "t-alpha-0"
    assert [r[1] for r in of_kind(changes, "association")] == ["alpha", "beta"]


def test_a_portfolio_whose_only_drift_is_a_tag_is_updated(make: Any) -> None:
    desired = make({"alpha": ("1.0.0", "a1")}, tags={"team": "platform", "tier": "1"})
    state = converged(desired)
    assert state.portfolio is not None
    state.portfolio.tags = {"team": "sre", "extra": "kept"}
    [portfolio] = of_kind(plan_region(desired, state), "portfolio")
    assert portfolio == (
        REGION,
        "On-call Tools (test)",
        Action.UPDATE,
        PortfolioTags(add_tags=(("team", "platform"), ("tier", "1")), replace_tag_keys=("team",)),
        "tag team, tag tier",
    )


def test_portfolio_description_and_provider_drift_are_named(desired: DesiredCatalog) -> None:
    state = converged(desired)
    assert state.portfolio is not None
    state.portfolio.description = "old"
    state.portfolio.provider_name = "old provider"
    [portfolio] = of_kind(plan_region(desired, state), "portfolio")
    assert portfolio[2:] == (Action.UPDATE, PortfolioTags(), "description, provider")


def test_product_metadata_drift_names_each_stale_field(desired: DesiredCatalog) -> None:
    state = converged(desired)
    state.products["beta"].metadata = {"Owner": "someone", "SupportUrl": ""}
    products = of_kind(plan_region(desired, state), "product")
    assert products[1] == (
        REGION,
        "beta",
        Action.UPDATE,
        ProductRef("beta"),
        "Description, Distributor, Owner, SupportEmail, SupportUrl",
    )


def test_a_product_missing_one_metadata_field_is_updated(desired: DesiredCatalog) -> None:
    state = converged(desired)
    del state.products["beta"].metadata["SupportUrl"]
    assert of_kind(plan_region(desired, state), "product")[1][2:] == (
        Action.UPDATE,
        ProductRef("beta"),
        "SupportUrl",
    )


def test_a_new_version_of_an_existing_product_is_created_not_awaited(make: Any) -> None:
    desired = make({"alpha": ("1.0.0", "a1")})
    bumped = make({"alpha": ("1.1.0", "a2")})
    changes = plan_region(bumped, converged(desired))
    new_hash = bumped.products["alpha"].content_hash
    assert of_kind(changes, "version") == [
        (
            REGION,
            "alpha 1.1.0",
            Action.CREATE,
            VersionBuild("alpha", False),
            f"hash {new_hash[:12]}",
        )
    ]
    assert of_kind(changes, "retention") == [
        (
            REGION,
            "alpha 1.0.0",
            Action.NO_CHANGE,
            RetentionTarget("alpha", "pa-alpha", active=True, guidance="DEFAULT"),
            "DEFAULT",
        ),
        (
            REGION,
            "alpha 1.1.0",
            Action.CREATE,
            RetentionTarget("alpha", f"hash:{new_hash}", active=True, guidance="DEFAULT"),
            "DEFAULT",
        ),
    ]


def test_retention_changes_carry_the_target_state(desired: DesiredCatalog) -> None:
    state = converged(desired)
    alpha = desired.products["alpha"]
    state.products["alpha"].versions = [
        _version("pa-1", "0.1.0", "1" * 64, 0),
        _version("pa-2", "0.2.0", "2" * 64, 1),
        _version("pa-3", "0.3.0", "3" * 64, 2),
        _version("pa-cur", alpha.version, alpha.content_hash, 3),
    ]
    retention = of_kind(plan_region(desired, state), "retention")
    assert retention[:2] == [
        (
            REGION,
            "alpha 0.1.0",
            Action.UPDATE,
            RetentionTarget("alpha", "pa-1", active=False, guidance="DEPRECATED"),
            "DEPRECATED, inactive",
        ),
        (
            REGION,
            "alpha 0.2.0",
            Action.UPDATE,
            RetentionTarget("alpha", "pa-2", active=True, guidance="DEPRECATED"),
            "DEPRECATED",
        ),
    ]


def test_a_version_still_creating_is_awaited(desired: DesiredCatalog) -> None:
    state = converged(desired)
    state.products["alpha"].build_version_status = "CREATING"
    assert of_kind(plan_region(desired, state), "version")[0] == (
        REGION,
        "alpha 1.0.0",
        Action.UPDATE,
        VersionBuild("alpha", True),
        "pa-alpha still CREATING",
    )


def test_a_failed_version_is_refused_with_the_way_out(desired: DesiredCatalog) -> None:
    state = converged(desired)
    state.products["alpha"].build_version_status = "FAILED"
    with pytest.raises(PublishError) as raised:
        plan_region(desired, state)
    assert str(raised.value) == (
        "us-east-1: alpha 1.0.0 (pa-alpha) is FAILED in Service Catalog: its template could not "
        "be read; fix the cause, delete that version (DeleteProvisioningArtifact) and publish "
        "again"
    )


def test_new_content_under_a_published_name_is_refused_naming_both_hashes(make: Any) -> None:
    state = converged(make({"alpha": ("1.0.0", "a1")}))
    changed = make({"alpha": ("1.0.0", "a2")})
    recorded = state.products["alpha"].versions[0].content_hash
    assert recorded is not None
    with pytest.raises(VersionConflictError) as raised:
        plan_region(changed, state)
    assert str(raised.value) == (
        f"alpha version '1.0.0' is already published in us-east-1 with content hash "
        f"{recorded[:12]}, the build has {changed.products['alpha'].content_hash[:12]}: "
        "versions are immutable; bump it (python build.py bump alpha) and build again"
    )


def test_a_published_name_without_a_recorded_hash_is_refused_too(make: Any) -> None:
    state = converged(make({"alpha": ("1.0.0", "a1")}))
    state.products["alpha"].versions = [
        dataclasses.replace(state.products["alpha"].versions[0], description="by hand")
    ]
    with pytest.raises(VersionConflictError, match=r"with content hash none recorde, the build"):
        plan_region(make({"alpha": ("1.0.0", "a2")}), state)


def test_an_unassociated_product_or_a_missing_portfolio_is_associated(
    desired: DesiredCatalog,
) -> None:
    state = converged(desired)
    state.products["alpha"].associated = False
    assert [r[2] for r in of_kind(plan_region(desired, state), "association")] == [
        Action.CREATE,
        Action.NO_CHANGE,
    ]
    state.products["alpha"].associated = True
    state.portfolio = None
    assert [r[2] for r in of_kind(plan_region(desired, state), "association")] == [
        Action.CREATE,
        Action.CREATE,
    ]


def test_a_changed_launch_role_updates_the_existing_constraint(make: Any) -> None:
    state = converged(make({"alpha": ("1.0.0", "a1")}))
    role = "arn:aws:iam::123456789012:role/Other"
    changed = make({"alpha": ("1.0.0", "a1")}, launch_role={"role_arn": role})
    wanted = f'{{"RoleArn":"{role}"}}'
    assert of_kind(plan_region(changed, state), "launch-constraint") == [
        (
            REGION,
            "alpha",
            Action.UPDATE,
            LaunchConstraintParams("alpha", wanted, constraint_id="c-alpha"),
            wanted,
        )
    ]


def test_template_constraints_update_in_place_and_stale_ones_are_deleted(
    desired: DesiredCatalog,
) -> None:
    state = converged(desired)
    alpha = state.products["alpha"]
    alpha.constraints = [
        c if c.type == "LAUNCH" else dataclasses.replace(c, parameters_json='{"Rules":{}}')
        for c in alpha.constraints
    ] + [ConstraintState("t-stale", "TEMPLATE", "old rule", '{"Rules":{"Old":{}}}')]
    rules = desired.products["alpha"].template_constraints[0].rules_json
    assert of_kind(plan_region(desired, state), "template-constraint") == [
        (
            REGION,
            "alpha: prod needs an on-call topic",
            Action.UPDATE,
            TemplateConstraintParams(
                "alpha", "prod needs an on-call topic", rules, constraint_id="t-alpha-0"
            ),
            "",
        ),
        (
            REGION,
            "alpha: old rule",
            Action.DELETE,
            TemplateConstraintParams(
                "alpha", "old rule", '{"Rules":{"Old":{}}}', constraint_id="t-stale"
            ),
            "not in config",
        ),
    ]


def test_principals_not_in_config_are_removed(desired: DesiredCatalog) -> None:
    state = converged(desired)
    assert state.portfolio is not None
    intruder = ("IAM", "arn:aws:iam::123456789012:role/Intruder")
    state.portfolio.principals = {PRINCIPALS[0], intruder}
    assert of_kind(plan_region(desired, state), "principal") == [
        (REGION, f"IAM {PRINCIPALS[0][1]}", Action.NO_CHANGE, PrincipalRef(*PRINCIPALS[0]), ""),
        (
            REGION,
            f"IAM_PATTERN {PRINCIPALS[1][1]}",
            Action.CREATE,
            PrincipalRef(*PRINCIPALS[1]),
            "",
        ),
        (REGION, f"IAM {intruder[1]}", Action.DELETE, PrincipalRef(*intruder), "not in config"),
    ]


def test_a_tag_option_that_exists_but_is_not_attached_is_attached(
    desired: DesiredCatalog,
) -> None:
    state = converged(desired)
    assert state.portfolio is not None
    state.portfolio.tag_option_ids = {"tag-0", "tag-1"}  # team=platform exists, not attached
    assert of_kind(plan_region(desired, state), "tag-option") == [
        (REGION, "cost-center=ops", Action.NO_CHANGE, TagOptionPair("cost-center", "ops"), ""),
        (REGION, "cost-center=sre", Action.NO_CHANGE, TagOptionPair("cost-center", "sre"), ""),
        (REGION, "team=platform", Action.CREATE, TagOptionPair("team", "platform"), ""),
    ]


SHARES = {
    "accounts": ["111122223333"],
    "organization_id": "o-abcdefghij",
    "share_principals": True,
    "share_tag_options": True,
}


def share_rows(desired: DesiredCatalog, shares: dict[tuple[str, str], ShareState]) -> Any:
    state = converged(desired)
    assert state.portfolio is not None
    state.portfolio.shares = shares
    return of_kind(plan_region(desired, state), "share")


def test_shares_are_created_with_their_flags(make: Any) -> None:
    desired = make({"alpha": ("1.0.0", "a1")}, shares=SHARES)
    assert share_rows(desired, {}) == [
        (
            REGION,
            "ACCOUNT 111122223333",
            Action.CREATE,
            ShareSettings(
                "ACCOUNT", "111122223333", share_principals=False, share_tag_options=True
            ),
            "principals=False tag-options=True",
        ),
        (
            REGION,
            "ORGANIZATION o-abcdefghij",
            Action.CREATE,
            ShareSettings(
                "ORGANIZATION", "o-abcdefghij", share_principals=True, share_tag_options=True
            ),
            "principals=True tag-options=True",
        ),
    ]


def test_a_share_with_other_flags_is_updated_and_a_matching_one_left_alone(make: Any) -> None:
    desired = make({"alpha": ("1.0.0", "a1")}, shares=SHARES)
    account = ShareState("ACCOUNT", "111122223333", False, True)
    org = ShareState("ORGANIZATION", "o-abcdefghij", True, False)
    found = share_rows(
        desired, {("ACCOUNT", "111122223333"): account, ("ORGANIZATION", "o-abcdefghij"): org}
    )
    assert [(name, action) for _, name, action, _, _ in found] == [
        ("ACCOUNT 111122223333", Action.NO_CHANGE),
        ("ORGANIZATION o-abcdefghij", Action.UPDATE),
    ]


def test_a_plan_covers_every_region_and_answers_per_region(make: Any) -> None:
    desired = make({"alpha": ("1.0.0", "a1")})
    plan = plan_catalog(desired, [converged(desired), empty_region("eu-west-1")])
    assert isinstance(plan, Plan)
    assert plan.has_changes
    assert {c.region for c in plan.pending} == {"eu-west-1"}
    assert all(c.action is Action.NO_CHANGE for c in plan.for_region(REGION))
    assert plan.for_region("eu-west-1") == plan_region(desired, empty_region("eu-west-1"))
    assert plan.changes == (
        *plan_region(desired, converged(desired)),
        *plan.for_region("eu-west-1"),
    )


def test_a_converged_catalog_has_no_changes(desired: DesiredCatalog) -> None:
    plan = plan_catalog(desired, [converged(desired)])
    assert not plan.has_changes and plan.pending == []
    assert len(plan.changes) == len(plan_region(desired, converged(desired)))


def test_a_region_without_its_bucket_is_refused_naming_bucket_region_and_fix(
    desired: DesiredCatalog,
) -> None:
    with pytest.raises(PublishError) as raised:
        plan_catalog(
            desired, [converged(desired), RegionState("eu-west-1", False, set(), None, {}, {})]
        )
    assert str(raised.value) == (
        "artifact bucket 'test-artifacts-eu-west-1' does not exist in eu-west-1; "
        "run `python build.py bootstrap` first"
    )


def test_a_converged_portfolio_with_tags_is_left_alone(make: Any) -> None:
    desired = make({"alpha": ("1.0.0", "a1")}, tags={"team": "platform"})
    changes = plan_region(desired, converged(desired))
    assert of_kind(changes, "portfolio")[0][2:] == (Action.NO_CHANGE, PortfolioTags(), "port-1")


def test_every_existing_version_is_planned_not_only_the_first(desired: DesiredCatalog) -> None:
    versions = of_kind(plan_region(desired, converged(desired)), "version")
    assert [(name, action) for _, name, action, _, _ in versions] == [
        ("alpha 1.0.0", Action.NO_CHANGE),
        ("beta 2.1.0", Action.NO_CHANGE),
    ]


def test_an_empty_metadata_field_that_service_catalog_left_out_is_not_drift(
    desired: DesiredCatalog,
) -> None:
    # Service Catalog does not return an empty field: "" configured reads back as absent.
    beta = dataclasses.replace(desired.products["beta"], support_url="")
    without_url = dataclasses.replace(desired, products={**desired.products, "beta": beta})
    state = converged(desired)
    del state.products["beta"].metadata["SupportUrl"]
    assert of_kind(plan_region(without_url, state), "product")[1][2] is Action.NO_CHANGE
