"""Rollback, status/drift, launch, bootstrap and targets against a real localcloud."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portfolio.aws import AwsClients, CallRecorder, Target
from portfolio.bootstrap import deploy
from portfolio.current import read_region
from portfolio.errors import PublishError, TargetError
from portfolio.launch import launch
from portfolio.polling import wait_for
from portfolio.rollback import rollback_region
from portfolio.status import catalog_status

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}
V2 = {"alpha": ("1.1.0", "a2"), "beta": ("1.0.0", "b1")}
REGION = "us-east-1"


def _status(harness: Any, desired: Any, history: dict[str, dict[str, str]] | None = None) -> Any:
    clients = harness.clients()
    state = read_region(
        clients.client("servicecatalog", REGION), clients.client("s3", REGION), desired, REGION
    )
    return catalog_status(desired, [state], history)


def test_rollback_makes_the_earlier_version_default_and_survives_publish(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    desired = harness.desired(V2)
    harness.publish(desired)
    lines: list[str] = []
    assert rollback_region(harness.sc, REGION, "alpha", "1.0.0", lines.append) == 1
    assert harness.versions("alpha") == {"1.0.0": ("DEFAULT", True), "1.1.0": ("DEPRECATED", True)}
    assert lines == ["1.1.0: DEPRECATED (rolled back)"]
    # Publishing the same build again must not undo the rollback, nor write anything.
    assert harness.publish(desired).writes == []
    assert rollback_region(harness.sc, REGION, "alpha", "1.0.0", lines.append) == 0
    alpha = next(p for p in _status(harness, desired).products if p.name == "alpha")
    assert alpha.default_versions == ["1.0.0"]
    assert [v.rolled_back for v in alpha.versions] == [True, False]


def test_roll_forward_again_and_new_version_after_rollback(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    harness.publish(harness.desired(V2))
    rollback_region(harness.sc, REGION, "alpha", "1.0.0", lambda line: None)
    rollback_region(harness.sc, REGION, "alpha", "1.1.0", lambda line: None)
    assert harness.versions("alpha")["1.1.0"] == ("DEFAULT", True)
    rollback_region(harness.sc, REGION, "alpha", "1.0.0", lambda line: None)
    harness.publish(harness.desired({**V2, "alpha": ("1.2.0", "a3")}))
    assert harness.versions("alpha") == {
        "1.2.0": ("DEFAULT", True),
        "1.1.0": ("DEPRECATED", True),
        "1.0.0": ("DEFAULT", True),
    }


def test_rollback_to_unknown_version_names_what_exists(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    with pytest.raises(PublishError, match=r"alpha has no version '0.9.0' \(published: 1.0.0\)"):
        rollback_region(harness.sc, REGION, "alpha", "0.9.0", lambda line: None)


def test_status_reports_drift_and_publish_repairs_it(harness: Any) -> None:
    desired = harness.desired(V1)
    harness.publish(desired)
    assert _status(harness, desired).drift == []
    pid = harness.sc.list_portfolios()["PortfolioDetails"][0]["Id"]
    beta = harness.product_id("beta")
    launch_constraint = next(
        c
        for c in harness.sc.list_constraints_for_portfolio(
            PortfolioId=pid, ProductId=harness.product_id("alpha")
        )["ConstraintDetails"]
        if c["Type"] == "LAUNCH"
    )
    harness.sc.delete_constraint(Id=launch_constraint["ConstraintId"])
    for constraint in harness.sc.list_constraints_for_portfolio(PortfolioId=pid, ProductId=beta)[
        "ConstraintDetails"
    ]:
        harness.sc.delete_constraint(Id=constraint["ConstraintId"])
    harness.sc.disassociate_product_from_portfolio(ProductId=beta, PortfolioId=pid)
    drift = _status(harness, desired).drift
    assert drift == [
        f"{REGION}: alpha: LAUNCH constraint gone",
        f"{REGION}: beta: missing from the portfolio",
    ]
    recorder = harness.publish(desired)
    # Each deleted constraint is asked for again with its first token, which AWS answers with
    # the deleted constraint (localcloud replays tokens like AWS); one more create with a new
    # token makes it.
    assert sorted(recorder.writes) == ["AssociateProductWithPortfolio", *["CreateConstraint"] * 4]
    assert _status(harness, desired).drift == []


def test_status_reports_a_version_whose_hash_no_longer_matches(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    changed = harness.desired({**V1, "alpha": ("1.0.0", "a2")})
    drift = _status(harness, changed).drift
    assert len(drift) == 1
    assert "alpha: version 1.0.0 records hash" in drift[0]
    assert "content changed without a version bump" in drift[0]
    # An older version is checked against versions.json's history.
    bumped = harness.desired(V2)
    harness.publish(bumped)
    assert _status(harness, bumped).drift == []
    drift = _status(harness, bumped, {"alpha": {"1.0.0": "0" * 64}}).drift
    assert drift == [
        f"{REGION}: alpha: version 1.0.0 records hash "
        f"{harness.desired(V1).products['alpha'].content_hash[:12]}, the build has "
        "000000000000 (content changed without a version bump)"
    ]


def test_launch_provisions_then_updates_with_environment_parameters(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    lines: list[str] = []
    first = launch(
        harness.sc, REGION, "alpha", "dev", parameters={"Environment": "dev"}, progress=lines.append
    )
    assert first.provisioned_product == "alpha-dev"
    assert first.version == "1.0.0"
    assert first.outputs["QueueUrl"].endswith("/alpha-dev")
    assert lines[-1] == "alpha-dev: SUCCEEDED"
    harness.publish(harness.desired(V2))
    second = launch(
        harness.sc, REGION, "alpha", "dev", parameters={"Environment": "dev"}, progress=lines.append
    )
    assert second.provisioned_product_id == first.provisioned_product_id
    assert second.version == "1.1.0"
    assert second.record_id != first.record_id
    records = harness.sc.describe_record(Id=second.record_id)["RecordDetail"]
    assert records["RecordType"] == "UPDATE_PROVISIONED_PRODUCT"


def _launched_version(harness: Any, name: str) -> str:
    detail = harness.sc.describe_provisioned_product(Name=name)["ProvisionedProductDetail"]
    artifact = harness.sc.describe_provisioning_artifact(
        ProductId=detail["ProductId"], ProvisioningArtifactId=detail["ProvisioningArtifactId"]
    )
    return str(artifact["ProvisioningArtifactDetail"]["Name"])


def test_launch_after_rollback_and_roll_forward_really_moves_the_product(harness: Any) -> None:
    # The same version and parameters as an earlier launch must not replay that launch's record.
    env = {"Environment": "dev"}
    quiet = lambda line: None  # noqa: E731
    harness.publish(harness.desired(V1))
    launch(harness.sc, REGION, "alpha", "dev", parameters=env, progress=quiet)
    harness.publish(harness.desired(V2))
    first = launch(harness.sc, REGION, "alpha", "dev", parameters=env, progress=quiet)
    rollback_region(harness.sc, REGION, "alpha", "1.0.0", quiet)
    back = launch(harness.sc, REGION, "alpha", "dev", parameters=env, progress=quiet)
    assert (back.version, _launched_version(harness, "alpha-dev")) == ("1.0.0", "1.0.0")
    rollback_region(harness.sc, REGION, "alpha", "1.1.0", quiet)
    forward = launch(harness.sc, REGION, "alpha", "dev", parameters=env, progress=quiet)
    assert forward.record_id != first.record_id
    assert (forward.version, _launched_version(harness, "alpha-dev")) == ("1.1.0", "1.1.0")


def test_a_product_terminated_and_launched_again_is_provisioned_anew(harness: Any) -> None:
    # Same name, version and parameters as the first launch: a token derived from them would
    # make AWS answer with the first record (localcloud replays tokens like AWS).
    env = {"Environment": "dev"}
    quiet = lambda line: None  # noqa: E731
    harness.publish(harness.desired(V1))
    first = launch(harness.sc, REGION, "alpha", "dev", parameters=env, progress=quiet)
    record = harness.sc.terminate_provisioned_product(
        ProvisionedProductName="alpha-dev", TerminateToken="end-1"
    )["RecordDetail"]["RecordId"]
    wait_for(
        lambda: (
            harness.sc.describe_record(Id=record)["RecordDetail"]["Status"]
            in ("SUCCEEDED", "FAILED")
            or None
        ),
        "terminate",
    )

    again = launch(harness.sc, REGION, "alpha", "dev", parameters=env, progress=quiet)

    assert again.record_id != first.record_id
    assert again.provisioned_product_id != first.provisioned_product_id
    assert again.outputs["QueueUrl"].endswith("/alpha-dev")


def test_a_launch_applies_exactly_the_config_and_the_params_given(harness: Any) -> None:
    # Declarative: a --param is for this launch; what should last belongs in catalog.yaml.
    topic = "arn:aws:sns:us-east-1:123456789012:team-oncall"
    quiet = lambda line: None  # noqa: E731
    harness.publish(harness.desired(V1))
    first = launch(
        harness.sc,
        REGION,
        "alpha",
        "dev",
        parameters={"Environment": "dev", "AlertTopicArn": topic},
        progress=quiet,
    )
    assert _stack_parameters(harness, first.stack_arn)["AlertTopicArn"] == topic

    later = launch(
        harness.sc, REGION, "alpha", "dev", parameters={"Environment": "dev"}, progress=quiet
    )

    assert _stack_parameters(harness, later.stack_arn)["AlertTopicArn"] == ""


def test_a_second_first_launch_of_the_same_name_is_one_clear_error(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    alpha = harness.product_id("alpha")
    version = harness.sc.list_provisioning_artifacts(ProductId=alpha)[
        "ProvisioningArtifactDetails"
    ][0]["Id"]
    path = harness.sc.list_launch_paths(ProductId=alpha)["LaunchPathSummaries"][0]["Id"]

    def another_launch_gets_there_first(**_: Any) -> None:
        # Between our check that the name is free and our ProvisionProduct call.
        harness.sc.provision_product(
            ProductId=alpha,
            ProvisioningArtifactId=version,
            PathId=path,
            ProvisionedProductName="alpha-dev",
            ProvisionToken="someone-else",
            ProvisioningParameters=[{"Key": "Environment", "Value": "dev"}],
        )

    ours = harness.clients().client("servicecatalog", REGION)
    ours.meta.events.register_first(
        "before-call.servicecatalog.ProvisionProduct", another_launch_gets_there_first
    )
    with pytest.raises(PublishError, match=r"'alpha-dev' was just created by another launch"):
        launch(
            ours,
            REGION,
            "alpha",
            "dev",
            parameters={"Environment": "dev"},
            progress=lambda line: None,
        )


def _stack_parameters(harness: Any, stack_arn: str | None) -> dict[str, str]:
    cfn = harness.clients().client("cloudformation", REGION)
    stack = cfn.describe_stacks(StackName=stack_arn)["Stacks"][0]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack["Parameters"]}


def test_launch_refuses_unknown_and_missing_parameters(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    with pytest.raises(PublishError, match=r"parameter 'Colour' is not a parameter"):
        launch(
            harness.sc,
            REGION,
            "alpha",
            "dev",
            parameters={"Environment": "dev", "Colour": "red"},
            progress=lambda line: None,
        )
    with pytest.raises(PublishError, match=r"parameter 'Environment' has no default"):
        launch(harness.sc, REGION, "alpha", "dev", parameters={}, progress=lambda line: None)


def test_launch_failure_reports_the_stack_reason(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    with pytest.raises(PublishError, match=r"provisioning of alpha-qa failed"):
        launch(
            harness.sc,
            REGION,
            "alpha",
            "qa",
            parameters={"Environment": "qa"},
            progress=lambda line: None,
        )


BOOTSTRAP = {
    "Parameters": {"OrganizationId": {"Type": "String", "Default": ""}},
    "Resources": {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": "boot-artifacts-us-east-1"},
        }
    },
}


def test_bootstrap_creates_once_then_is_a_no_op(harness: Any) -> None:
    recorder = CallRecorder()
    cfn = harness.clients(recorder).client("cloudformation", REGION)
    body = json.dumps(BOOTSTRAP)
    assert deploy(cfn, REGION, body, {"OrganizationId": ""}, lambda line: None) == "created"
    recorder.calls.clear()
    assert deploy(cfn, REGION, body, {"OrganizationId": ""}, lambda line: None) == "unchanged"
    assert recorder.writes == []
    changed = {**BOOTSTRAP, "Outputs": {"Name": {"Value": {"Ref": "Bucket"}}}}
    assert (
        deploy(cfn, REGION, json.dumps(changed), {"OrganizationId": ""}, lambda line: None)
        == "updated"
    )


def test_no_credentials_and_no_endpoint_suggests_local(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    # Never let the credential chain reach for the instance metadata service from a test.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(TargetError, match=r"no AWS credentials found.*--local"):
        AwsClients(Target())
    with pytest.raises(TargetError, match=r"profile 'nope' not found"):
        AwsClients(Target(profile="nope"))


def test_unreadable_template_fails_the_version_and_the_rerun_says_why(harness: Any) -> None:
    desired = harness.desired(V1)
    broken = b"this is not a CloudFormation template"
    alpha = desired.products["alpha"]
    alpha.template.path.write_bytes(broken)
    with pytest.raises(PublishError, match=r"ended FAILED"):
        harness.publish(desired)
    with pytest.raises(PublishError, match=r"alpha 1.0.0 \(pa-\w+\) is FAILED"):
        harness.publish(desired)
