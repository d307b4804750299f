"""Portfolio shares: account shares (synchronous) and organization / OU shares (token + status)."""

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import check_raw_response, wait_for
from tests.localcloud.helpers import create_portfolio

ORG = "o-abcdefghij"
OU = "ou-ab12-abcdefgh"


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def test_account_share_is_synchronous(sc: Any) -> None:
    portfolio_id = create_portfolio(sc)
    answer = sc.create_portfolio_share(
        PortfolioId=portfolio_id, AccountId="210987654321", ShareTagOptions=True
    )
    assert "PortfolioShareToken" not in answer
    shares = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ACCOUNT")[
        "PortfolioShareDetails"
    ]
    assert shares == [
        {
            "PrincipalId": "210987654321",
            "Type": "ACCOUNT",
            "Accepted": False,
            "ShareTagOptions": True,
            "SharePrincipals": False,
        }
    ]
    assert sc.list_portfolio_access(PortfolioId=portfolio_id)["AccountIds"] == ["210987654321"]
    with pytest.raises(ClientError) as info:
        sc.delete_portfolio(Id=portfolio_id)
    assert code_of(info) == "ResourceInUseException"
    sc.delete_portfolio_share(PortfolioId=portfolio_id, AccountId="210987654321")
    assert sc.list_portfolio_access(PortfolioId=portfolio_id)["AccountIds"] == []


def test_share_principals_only_for_organization_nodes(sc: Any) -> None:
    portfolio_id = create_portfolio(sc)
    with pytest.raises(ClientError) as info:
        sc.create_portfolio_share(
            PortfolioId=portfolio_id, AccountId="210987654321", SharePrincipals=True
        )
    assert code_of(info) == "InvalidParametersException"
    with pytest.raises(ClientError) as info:
        sc.create_portfolio_share(PortfolioId=portfolio_id)
    assert code_of(info) == "InvalidParametersException"


def share_status(sc: Any, token: str) -> str:
    return str(sc.describe_portfolio_share_status(PortfolioShareToken=token)["Status"])


def test_organization_share_is_asynchronous_with_a_token(sc: Any) -> None:
    portfolio_id = create_portfolio(sc)
    token = sc.create_portfolio_share(
        PortfolioId=portfolio_id,
        SharePrincipals=True,
        OrganizationNode={"Type": "ORGANIZATION", "Value": ORG},
    )["PortfolioShareToken"]
    assert share_status(sc, token) == "IN_PROGRESS"
    wait_for(lambda: share_status(sc, token), lambda status: status == "COMPLETED")
    final = sc.describe_portfolio_share_status(PortfolioShareToken=token)
    assert final["OrganizationNodeValue"] == ORG and final["ShareDetails"]["SuccessfulShares"] == [
        ORG
    ]
    again = sc.create_portfolio_share(
        PortfolioId=portfolio_id,
        ShareTagOptions=True,
        OrganizationNode={"Type": "ORGANIZATION", "Value": ORG},
    )
    assert again["PortfolioShareToken"]
    shares = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ORGANIZATION")[
        "PortfolioShareDetails"
    ]
    assert [(s["SharePrincipals"], s["ShareTagOptions"]) for s in shares] == [
        (True, False)
    ]  # re-share changed nothing


def test_update_and_delete_ou_share(sc: Any) -> None:
    portfolio_id = create_portfolio(sc)
    node = {"Type": "ORGANIZATIONAL_UNIT", "Value": OU}
    token = sc.create_portfolio_share(PortfolioId=portfolio_id, OrganizationNode=node)[
        "PortfolioShareToken"
    ]
    with pytest.raises(ClientError) as info:
        sc.update_portfolio_share(
            PortfolioId=portfolio_id, OrganizationNode=node, ShareTagOptions=True
        )
    assert code_of(info) == "InvalidStateException"
    wait_for(lambda: share_status(sc, token), lambda s: s == "COMPLETED")
    updated = sc.update_portfolio_share(
        PortfolioId=portfolio_id, OrganizationNode=node, ShareTagOptions=True, SharePrincipals=True
    )
    assert updated["Status"] == "IN_PROGRESS"
    wait_for(lambda: share_status(sc, updated["PortfolioShareToken"]), lambda s: s == "COMPLETED")
    shares = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ORGANIZATIONAL_UNIT")[
        "PortfolioShareDetails"
    ]
    assert [(s["PrincipalId"], s["ShareTagOptions"], s["SharePrincipals"]) for s in shares] == [
        (OU, True, True)
    ]
    access = sc.list_organization_portfolio_access(
        PortfolioId=portfolio_id, OrganizationNodeType="ORGANIZATIONAL_UNIT"
    )
    assert access["OrganizationNodes"] == [node]
    deleted = sc.delete_portfolio_share(PortfolioId=portfolio_id, OrganizationNode=node)
    wait_for(lambda: share_status(sc, deleted["PortfolioShareToken"]), lambda s: s == "COMPLETED")
    with pytest.raises(ClientError) as info:
        sc.update_portfolio_share(
            PortfolioId=portfolio_id, OrganizationNode=node, ShareTagOptions=False
        )
    assert code_of(info) == "ResourceNotFoundException"


def test_share_errors(sc: Any) -> None:
    with pytest.raises(ClientError) as info:
        sc.create_portfolio_share(PortfolioId="port-missing12345", AccountId="210987654321")
    assert code_of(info) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        sc.describe_portfolio_share_status(PortfolioShareToken="share-unknown")
    assert code_of(info) == "ResourceNotFoundException"
    portfolio_id = create_portfolio(sc)
    with pytest.raises(ClientError) as info:
        sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId="12345")  # not 12 digits
    assert code_of(info) == "ValidationException"


def as_account(client: Any, account_id: str) -> Any:
    """The same client, calling as ACCOUNT_ID (moto's x-moto-account-id header)."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    client.meta.events.register("before-sign.servicecatalog.*", add_header)
    return client


def test_recipient_accepts_lists_and_rejects_an_account_share(sc: Any) -> None:
    portfolio_id = create_portfolio(sc)
    recipient = boto3.client(
        "servicecatalog",
        endpoint_url=sc.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    recipient.meta.events.register("after-call.servicecatalog", check_raw_response)
    as_account(recipient, "210987654321")
    with pytest.raises(ClientError) as info:
        recipient.accept_portfolio_share(PortfolioId=portfolio_id)
    assert code_of(info) == "ResourceNotFoundException"
    sc.create_portfolio_share(PortfolioId=portfolio_id, AccountId="210987654321")
    recipient.accept_portfolio_share(PortfolioId=portfolio_id)
    accepted = recipient.list_accepted_portfolio_shares()["PortfolioDetails"]
    assert [p["Id"] for p in accepted] == [portfolio_id]
    assert recipient.list_portfolios()["PortfolioDetails"] == []  # the import is not its own
    shares = sc.describe_portfolio_shares(PortfolioId=portfolio_id, Type="ACCOUNT")[
        "PortfolioShareDetails"
    ]
    assert shares[0]["Accepted"] is True
    recipient.reject_portfolio_share(PortfolioId=portfolio_id)
    assert recipient.list_accepted_portfolio_shares()["PortfolioDetails"] == []
    with pytest.raises(ClientError) as info:
        recipient.reject_portfolio_share(PortfolioId=portfolio_id)
    assert code_of(info) == "ResourceNotFoundException"


def test_organizations_access_status(sc: Any) -> None:
    assert sc.get_aws_organizations_access_status()["AccessStatus"] == "DISABLED"
    sc.enable_aws_organizations_access()
    assert sc.get_aws_organizations_access_status()["AccessStatus"] == "ENABLED"
    sc.disable_aws_organizations_access()
    assert sc.get_aws_organizations_access_status()["AccessStatus"] == "DISABLED"
