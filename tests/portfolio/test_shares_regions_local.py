"""Shares, several regions and TEMPLATE-constraint enforcement against a real localcloud."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from portfolio.aws import AwsClients, CallRecorder, Target
from portfolio.current import read_region
from portfolio.errors import PublishError, VersionConflictError
from portfolio.launch import launch
from portfolio.publish import publish
from portfolio.status import catalog_status

V1 = {"alpha": ("1.0.0", "a1")}


def _share_state(sc: Any, kind: str) -> list[tuple[str, bool, bool]]:
    pid = sc.list_portfolios()["PortfolioDetails"][0]["Id"]
    details = sc.describe_portfolio_shares(PortfolioId=pid, Type=kind)["PortfolioShareDetails"]
    return [
        (d["PrincipalId"], bool(d.get("SharePrincipals")), bool(d.get("ShareTagOptions")))
        for d in details
    ]


def test_account_and_organization_shares_are_created_then_updated(harness: Any) -> None:
    harness.portfolio["shares"] = {
        "accounts": ["111122223333"],
        "organization_id": "o-abcdefghij",
        "share_principals": True,
        "share_tag_options": False,
    }
    harness.sc.enable_aws_organizations_access()
    harness.publish(harness.desired(V1))
    assert _share_state(harness.sc, "ACCOUNT") == [("111122223333", False, False)]
    assert _share_state(harness.sc, "ORGANIZATION") == [("o-abcdefghij", True, False)]
    harness.portfolio["shares"]["share_tag_options"] = True
    recorder = harness.publish(harness.desired(V1))
    assert recorder.writes == ["UpdatePortfolioShare", "UpdatePortfolioShare"]
    assert _share_state(harness.sc, "ORGANIZATION") == [("o-abcdefghij", True, True)]
    desired = harness.desired(V1)
    assert harness.publish(desired).writes == []
    pid = harness.sc.list_portfolios()["PortfolioDetails"][0]["Id"]
    harness.sc.delete_portfolio_share(PortfolioId=pid, AccountId="111122223333")
    clients = harness.clients()
    state = read_region(
        clients.client("servicecatalog", "us-east-1"),
        clients.client("s3", "us-east-1"),
        desired,
        "us-east-1",
    )
    assert catalog_status(desired, [state]).drift == [
        "us-east-1: share ACCOUNT 111122223333 missing"
    ]
    assert harness.publish(desired).writes == ["CreatePortfolioShare"]


def _two_regions(harness: Any) -> AwsClients:
    harness.portfolio["regions"] = ["us-east-1", "eu-west-1"]
    clients: AwsClients = harness.clients()
    clients.client("s3", "eu-west-1").create_bucket(
        Bucket="test-artifacts-eu-west-1",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    return clients


def test_every_region_is_published(harness: Any) -> None:
    clients = _two_regions(harness)
    harness.publish(harness.desired(V1))
    for region in ("us-east-1", "eu-west-1"):
        sc = clients.client("servicecatalog", region)
        assert [p["DisplayName"] for p in sc.list_portfolios()["PortfolioDetails"]] == [
            "On-call Tools (test)"
        ]
    assert harness.publish(harness.desired(V1)).writes == []


def test_a_refusal_in_one_region_stops_every_region(harness: Any) -> None:
    _two_regions(harness)
    # eu-west-1 alone already has 1.0.0 with other content; us-east-1 is empty, so its plan
    # is all creates. The refusal in eu-west-1 must stop the run before us-east-1 is touched.
    eu_only = AwsClients(Target(endpoint_url=harness.endpoint, region="eu-west-1"))
    publish(eu_only, harness.desired({"alpha": ("1.0.0", "a2")}), lambda change: None)
    recorder = CallRecorder()
    with pytest.raises(VersionConflictError, match="eu-west-1"):
        publish(
            AwsClients(Target(endpoint_url=harness.endpoint), (recorder,)),
            harness.desired(V1),
            lambda change: None,
        )
    assert recorder.writes == []


def test_region_option_limits_the_run(harness: Any) -> None:
    harness.portfolio["regions"] = ["us-east-1", "eu-west-1"]
    recorder = CallRecorder()
    clients = AwsClients(Target(endpoint_url=harness.endpoint, region="us-east-1"), (recorder,))
    publish(clients, harness.desired(V1), lambda change: None)
    eu = harness.clients().client("servicecatalog", "eu-west-1")
    assert eu.list_portfolios()["PortfolioDetails"] == []


def test_template_constraint_rules_are_enforced_at_launch(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    with pytest.raises(botocore.exceptions.ClientError, match="prod requires AlertTopicArn"):
        launch(
            harness.sc,
            "us-east-1",
            "alpha",
            "prod",
            parameters={"Environment": "prod", "AlertTopicArn": ""},
            progress=lambda line: None,
        )
    topic = harness.clients().client("sns", "us-east-1").create_topic(Name="oncall")["TopicArn"]
    result = launch(
        harness.sc,
        "us-east-1",
        "alpha",
        "prod",
        parameters={"Environment": "prod", "AlertTopicArn": topic},
        progress=lambda line: None,
    )
    assert result.provisioned_product == "alpha-prod"


def test_portfolio_description_and_tags_are_kept_in_sync(harness: Any) -> None:
    harness.portfolio["tags"] = {"owner": "platform", "tier": "1"}
    harness.publish(harness.desired(V1))
    harness.portfolio["tags"] = {"owner": "sre", "tier": "1"}
    harness.portfolio["description"] = "New words"
    recorder = harness.publish(harness.desired(V1))
    assert recorder.writes == ["UpdatePortfolio", "UpdatePortfolio"]
    pid = harness.sc.list_portfolios()["PortfolioDetails"][0]["Id"]
    described = harness.sc.describe_portfolio(Id=pid)
    assert described["PortfolioDetail"]["Description"] == "New words"
    assert {t["Key"]: t["Value"] for t in described["Tags"]} == {"owner": "sre", "tier": "1"}
    assert harness.publish(harness.desired(V1)).writes == []


def test_organization_share_without_organizations_access_is_refused_before_any_write(
    harness: Any,
) -> None:
    harness.portfolio["shares"] = {"organization_id": "o-abcdefghij"}
    with pytest.raises(PublishError, match=r"needs AWS Organizations access .* DISABLED"):
        harness.publish(harness.desired(V1))
    assert harness.sc.list_portfolios()["PortfolioDetails"] == []
