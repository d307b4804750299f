"""Constraints, principals and TagOptions: the service's rules and error codes."""

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.helpers import SIMPLE_TEMPLATE, create_portfolio, create_product, put_template

LAUNCH_ROLE = "arn:aws:iam::123456789012:role/CatalogLaunch"
RULES = {
    "ProdOnlyMain": {
        "RuleCondition": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]},
        "Assertions": [
            {
                "Assert": {"Fn::Equals": [{"Ref": "QueueSuffix"}, "main"]},
                "AssertDescription": "prod must use the main queue",
            }
        ],
    }
}


@pytest.fixture
def path(sc: Any, s3: Any, local_endpoint: str) -> tuple[str, str]:
    url = put_template(s3, local_endpoint, "t.json", SIMPLE_TEMPLATE)
    product_id, _ = create_product(sc, url)
    portfolio_id = create_portfolio(sc)
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    return portfolio_id, product_id


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def constraint(
    sc: Any, path: tuple[str, str], kind: str, parameters: dict[str, Any], token: str
) -> Any:
    portfolio_id, product_id = path
    return sc.create_constraint(
        PortfolioId=portfolio_id,
        ProductId=product_id,
        Type=kind,
        Parameters=json.dumps(parameters),
        IdempotencyToken=token,
        Description=f"{kind} constraint",
    )


def test_launch_constraint_once_per_product_and_portfolio(sc: Any, path: tuple[str, str]) -> None:
    created = constraint(sc, path, "LAUNCH", {"RoleArn": LAUNCH_ROLE}, "c1")
    assert created["Status"] == "AVAILABLE"
    assert created["ConstraintDetail"]["ConstraintId"].startswith("cons-")
    replay = constraint(sc, path, "LAUNCH", {"RoleArn": LAUNCH_ROLE}, "c1")
    assert replay["ConstraintDetail"]["ConstraintId"] == created["ConstraintDetail"]["ConstraintId"]
    with pytest.raises(ClientError) as info:
        constraint(sc, path, "LAUNCH", {"LocalRoleName": "Other"}, "c2")
    assert code_of(info) == "DuplicateResourceException"


@pytest.mark.parametrize(
    "parameters", [{}, {"RoleArn": LAUNCH_ROLE, "LocalRoleName": "x"}, {"RoleArn": "nope"}]
)
def test_launch_constraint_needs_exactly_one_role(
    sc: Any, path: tuple[str, str], parameters: dict[str, str]
) -> None:
    with pytest.raises(ClientError) as info:
        constraint(sc, path, "LAUNCH", parameters, "bad")
    assert code_of(info) == "InvalidParametersException"


def test_constraint_before_association_is_not_found(sc: Any, s3: Any, local_endpoint: str) -> None:
    url = put_template(s3, local_endpoint, "t.json", SIMPLE_TEMPLATE)
    product_id, _ = create_product(sc, url, name="lonely")
    portfolio_id = create_portfolio(sc)
    with pytest.raises(ClientError) as info:
        constraint(sc, (portfolio_id, product_id), "LAUNCH", {"LocalRoleName": "Launch"}, "c")
    assert code_of(info) == "ResourceNotFoundException"
    assert "not associated" in str(info.value)


def test_template_and_resource_update_constraints(sc: Any, path: tuple[str, str]) -> None:
    template = constraint(sc, path, "TEMPLATE", {"Rules": RULES}, "t1")
    second = constraint(
        sc, path, "TEMPLATE", {"Rules": RULES}, "t2"
    )  # several TEMPLATE ones are fine
    update = constraint(
        sc,
        path,
        "RESOURCE_UPDATE",
        {"Version": "2.0", "Properties": {"TagUpdateOnProvisionedProduct": "ALLOWED"}},
        "r1",
    )
    listed = sc.list_constraints_for_portfolio(PortfolioId=path[0], ProductId=path[1])[
        "ConstraintDetails"
    ]
    assert sorted(c["Type"] for c in listed) == ["RESOURCE_UPDATE", "TEMPLATE", "TEMPLATE"]
    described = sc.describe_constraint(Id=template["ConstraintDetail"]["ConstraintId"])
    assert json.loads(described["ConstraintParameters"]) == {"Rules": RULES}
    updated = sc.update_constraint(
        Id=update["ConstraintDetail"]["ConstraintId"], Description="tags ok"
    )
    assert updated["ConstraintDetail"]["Description"] == "tags ok"
    sc.delete_constraint(Id=second["ConstraintDetail"]["ConstraintId"])
    with pytest.raises(ClientError) as info:
        sc.describe_constraint(Id=second["ConstraintDetail"]["ConstraintId"])
    assert code_of(info) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("kind", "parameters"),
    [
        ("TEMPLATE", {"Rules": {}}),
        ("TEMPLATE", {"Rules": {"R": {"Assertions": [{"AssertDescription": "no assert"}]}}}),
        (
            "RESOURCE_UPDATE",
            {"Version": "1.0", "Properties": {"TagUpdateOnProvisionedProduct": "ALLOWED"}},
        ),
        ("SOMETHING", {"x": 1}),
    ],
)
def test_invalid_constraint_parameters(
    sc: Any, path: tuple[str, str], kind: str, parameters: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as info:
        constraint(sc, path, kind, parameters, "bad")
    assert code_of(info) == "InvalidParametersException"


def test_constraint_blocks_disassociation(sc: Any, path: tuple[str, str]) -> None:
    made = constraint(sc, path, "LAUNCH", {"LocalRoleName": "Launch"}, "c")
    with pytest.raises(ClientError) as info:
        sc.disassociate_product_from_portfolio(ProductId=path[1], PortfolioId=path[0])
    assert code_of(info) == "ResourceInUseException"
    sc.delete_constraint(Id=made["ConstraintDetail"]["ConstraintId"])
    sc.disassociate_product_from_portfolio(ProductId=path[1], PortfolioId=path[0])


def test_principals_iam_and_patterns(sc: Any) -> None:
    portfolio_id = create_portfolio(sc)
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id,
        PrincipalType="IAM",
        PrincipalARN="arn:aws:iam::123456789012:role/Oncall",
    )
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id,
        PrincipalType="IAM_PATTERN",
        PrincipalARN="arn:aws:iam:::role/PlatformEngineer*",
    )
    principals = sc.list_principals_for_portfolio(PortfolioId=portfolio_id)["Principals"]
    assert {(p["PrincipalType"], p["PrincipalARN"]) for p in principals} == {
        ("IAM", "arn:aws:iam::123456789012:role/Oncall"),
        ("IAM_PATTERN", "arn:aws:iam:::role/PlatformEngineer*"),
    }
    with pytest.raises(ClientError) as info:
        sc.delete_portfolio(Id=portfolio_id)
    assert code_of(info) == "ResourceInUseException"
    sc.disassociate_principal_from_portfolio(
        PortfolioId=portfolio_id, PrincipalARN="arn:aws:iam::123456789012:role/Oncall"
    )
    assert len(sc.list_principals_for_portfolio(PortfolioId=portfolio_id)["Principals"]) == 1
    with pytest.raises(ClientError) as info:
        sc.disassociate_principal_from_portfolio(
            PortfolioId=portfolio_id, PrincipalARN="arn:aws:iam::123456789012:role/Oncall"
        )
    assert code_of(info) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("kind", "arn"),
    [
        ("IAM_PATTERN", "arn:aws:iam::123456789012:role/Dev*"),  # patterns carry no account id
        ("IAM_PATTERN", "arn:aws:iam:::*"),
        ("IAM", "arn:aws:iam:::role/Dev"),
    ],
)
def test_invalid_principals(sc: Any, kind: str, arn: str) -> None:
    portfolio_id = create_portfolio(sc)
    with pytest.raises(ClientError) as info:
        sc.associate_principal_with_portfolio(
            PortfolioId=portfolio_id, PrincipalType=kind, PrincipalARN=arn
        )
    assert code_of(info) == "InvalidParametersException"


def test_at_most_ten_iam_patterns(sc: Any) -> None:
    portfolio_id = create_portfolio(sc)
    for index in range(10):
        sc.associate_principal_with_portfolio(
            PortfolioId=portfolio_id,
            PrincipalType="IAM_PATTERN",
            PrincipalARN=f"arn:aws:iam:::role/Team{index}*",
        )
    with pytest.raises(ClientError) as info:
        sc.associate_principal_with_portfolio(
            PortfolioId=portfolio_id,
            PrincipalType="IAM_PATTERN",
            PrincipalARN="arn:aws:iam:::role/Team10*",
        )
    assert code_of(info) == "LimitExceededException"


def test_bad_principal_type_is_a_validation_error(sc: Any, local_endpoint: str) -> None:
    portfolio_id = create_portfolio(sc)
    # botocore does not check enums client-side, so the server must.
    with pytest.raises(ClientError) as info:
        sc.associate_principal_with_portfolio(
            PortfolioId=portfolio_id,
            PrincipalType="GROUP",
            PrincipalARN="arn:aws:iam::123456789012:role/x",
        )
    assert code_of(info) == "ValidationException"
    assert (
        "'principalType' failed to satisfy constraint: Member must satisfy enum value set"
        in str(info.value)
    )


def test_tag_options_lifecycle(sc: Any, path: tuple[str, str]) -> None:
    portfolio_id, product_id = path
    team = sc.create_tag_option(Key="team", Value="platform")["TagOptionDetail"]
    sre = sc.create_tag_option(Key="team", Value="sre")["TagOptionDetail"]
    assert team["Id"].startswith("tag-") and team["Active"] is True
    with pytest.raises(ClientError) as info:
        sc.create_tag_option(Key="team", Value="platform")
    assert code_of(info) == "DuplicateResourceException"
    sc.associate_tag_option_with_resource(ResourceId=portfolio_id, TagOptionId=team["Id"])
    sc.associate_tag_option_with_resource(ResourceId=product_id, TagOptionId=sre["Id"])
    with pytest.raises(ClientError) as info:
        sc.associate_tag_option_with_resource(ResourceId=portfolio_id, TagOptionId=team["Id"])
    assert code_of(info) == "DuplicateResourceException"
    assert [o["Value"] for o in sc.describe_portfolio(Id=portfolio_id)["TagOptions"]] == [
        "platform"
    ]
    assert [o["Value"] for o in sc.describe_product_as_admin(Id=product_id)["TagOptions"]] == [
        "sre"
    ]
    listed = sc.list_tag_options(Filters={"Key": "team"})["TagOptionDetails"]
    assert {o["Value"] for o in listed} == {"platform", "sre"}
    resources = sc.list_resources_for_tag_option(TagOptionId=team["Id"])["ResourceDetails"]
    assert [r["Id"] for r in resources] == [portfolio_id]
    with pytest.raises(ClientError) as info:
        sc.delete_tag_option(Id=team["Id"])
    assert code_of(info) == "ResourceInUseException"
    sc.disassociate_tag_option_from_resource(ResourceId=portfolio_id, TagOptionId=team["Id"])
    inactive = sc.update_tag_option(Id=team["Id"], Active=False)["TagOptionDetail"]
    assert inactive["Active"] is False
    with pytest.raises(ClientError) as info:
        sc.associate_tag_option_with_resource(ResourceId=portfolio_id, TagOptionId=team["Id"])
    assert code_of(info) == "InvalidParametersException"
    sc.delete_tag_option(Id=team["Id"])
    assert [o["Id"] for o in sc.list_tag_options()["TagOptionDetails"]] == [sre["Id"]]
    assert sc.describe_tag_option(Id=sre["Id"])["TagOptionDetail"]["Value"] == "sre"
    with pytest.raises(ClientError) as info:
        sc.describe_tag_option(Id=team["Id"])
    assert code_of(info) == "ResourceNotFoundException"
