"""Using an imported portfolio: an account that accepted a share associates its own principal,
finds the shared products and launches them through the imported portfolio's launch path and
constraints; the stack is created in the recipient's account with the recipient's launch role."""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import check_raw_response, wait_for
from tests.localcloud.helpers import SIMPLE_TEMPLATE, create_portfolio, create_product, put_template

RECIPIENT = "210987654321"
LAUNCH_ROLE = "OncallCatalogLaunchRole"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _recipient(endpoint: str, service: str) -> Any:
    """A client of its own (the fixtures' clients are shared) calling as the recipient."""
    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    if service == "servicecatalog":
        client.meta.events.register("after-call.servicecatalog", check_raw_response)
    return _as_account(client, RECIPIENT)


def _as_account(client: Any, account_id: str) -> Any:
    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    client.meta.events.register("before-sign.*.*", add_header)
    return client


@pytest.fixture
def shared(sc: Any, s3: Any, local_endpoint: str) -> dict[str, str]:
    url = put_template(s3, local_endpoint, "templates/p/1.json", SIMPLE_TEMPLATE)
    product_id, artifact_id = create_product(sc, url)
    portfolio_id = create_portfolio(sc)
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.create_constraint(
        PortfolioId=portfolio_id,
        ProductId=product_id,
        Type="LAUNCH",
        Parameters=json.dumps({"LocalRoleName": LAUNCH_ROLE}),
        IdempotencyToken="launch-constraint",
    )
    wait_for(
        lambda: sc.describe_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=artifact_id
        ),
        lambda a: a["Status"] == "AVAILABLE",
    )
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId=RECIPIENT)
    return {"portfolio": portfolio_id, "product": product_id, "artifact": artifact_id}


def test_recipient_launches_a_shared_product_in_its_own_account(
    client_factory: Callable[..., Any], local_endpoint: str, sc: Any, shared: dict[str, str]
) -> None:
    recipient = _recipient(local_endpoint, "servicecatalog")
    iam = _recipient(local_endpoint, "iam")
    iam.create_role(RoleName=LAUNCH_ROLE, AssumeRolePolicyDocument=TRUST)
    recipient.accept_portfolio_share(PortfolioId=shared["portfolio"])
    principal = f"arn:aws:iam::{RECIPIENT}:role/Deployer"
    recipient.associate_principal_with_portfolio(
        PortfolioId=shared["portfolio"], PrincipalARN=principal, PrincipalType="IAM"
    )
    listed = recipient.list_principals_for_portfolio(PortfolioId=shared["portfolio"])
    assert [p["PrincipalARN"] for p in listed["Principals"]] == [principal]
    owner_principals = sc.list_principals_for_portfolio(PortfolioId=shared["portfolio"])
    assert owner_principals["Principals"] == []  # the recipient's association is its own
    found = recipient.search_products_as_admin(PortfolioId=shared["portfolio"])
    assert [d["ProductViewSummary"]["ProductId"] for d in found["ProductViewDetails"]] == [
        shared["product"]
    ]
    artifacts = recipient.list_provisioning_artifacts(ProductId=shared["product"])
    assert [a["Id"] for a in artifacts["ProvisioningArtifactDetails"]] == [shared["artifact"]]
    paths = recipient.list_launch_paths(ProductId=shared["product"])["LaunchPathSummaries"]
    assert [c["Type"] for c in paths[0]["ConstraintSummaries"]] == ["LAUNCH"]
    record = recipient.provision_product(
        ProductId=shared["product"],
        ProvisioningArtifactId=shared["artifact"],
        PathId=paths[0]["Id"],
        ProvisionedProductName="queue-dev",
        ProvisionToken="t1",
    )["RecordDetail"]
    done = wait_for(
        lambda: recipient.describe_record(Id=record["RecordId"]),
        lambda r: r["RecordDetail"]["Status"] in ("SUCCEEDED", "FAILED"),
    )
    assert done["RecordDetail"]["Status"] == "SUCCEEDED", done["RecordDetail"]
    recipient_sqs = _recipient(local_endpoint, "sqs")
    assert [u.rsplit("/", 1)[-1] for u in recipient_sqs.list_queues()["QueueUrls"]] == [
        "q-dev-main"
    ]
    assert "QueueUrls" not in client_factory("sqs").list_queues()  # nothing in the owner's


def test_without_accepting_the_share_nothing_is_visible(
    local_endpoint: str, shared: dict[str, str]
) -> None:
    recipient = _recipient(local_endpoint, "servicecatalog")
    with pytest.raises(ClientError) as info:
        recipient.list_launch_paths(ProductId=shared["product"])
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        recipient.associate_principal_with_portfolio(
            PortfolioId=shared["portfolio"],
            PrincipalARN=f"arn:aws:iam::{RECIPIENT}:role/Deployer",
            PrincipalType="IAM",
        )
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
