"""The checkers the fidelity tests rely on must themselves catch what they claim to catch."""

from typing import Any

import botocore.session
import pytest

from localcloud.shapes import request_problems, response_problems, validation_message

MODEL = botocore.session.get_session().get_service_model("servicecatalog")


def output_of(operation: str) -> Any:
    return MODEL.operation_model(operation).output_shape


def input_of(operation: str) -> Any:
    return MODEL.operation_model(operation).input_shape


GOOD_PORTFOLIO = {
    "PortfolioDetail": {
        "Id": "port-abc",
        "ARN": "arn",
        "DisplayName": "d",
        "CreatedTime": 1.5,
        "ProviderName": "p",
    },
    "Tags": [{"Key": "k", "Value": "v"}],
}


def test_valid_response_has_no_problems() -> None:
    assert response_problems(GOOD_PORTFOLIO, output_of("CreatePortfolio")) == []


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({**GOOD_PORTFOLIO, "Extra": 1}, "unknown member Extra"),
        (
            {"PortfolioDetail": {**GOOD_PORTFOLIO["PortfolioDetail"], "CreatedTime": "yesterday"}},
            "not a valid timestamp",
        ),
        ({"Tags": [{"Key": "k"}]}, "required member Value"),
        ({"Tags": {"Key": "k", "Value": "v"}}, "expected a list"),
        ({"PortfolioDetail": {"Id": 5}}, "is not a string"),
    ],
)
def test_response_problems_are_found(document: dict[str, Any], fragment: str) -> None:
    problems = [str(p) for p in response_problems(document, output_of("CreatePortfolio"))]
    assert any(fragment in p for p in problems), problems


def test_enum_boolean_and_integer_checks() -> None:
    record = {"RecordDetail": {"Status": "DONE"}}
    assert "not one of" in str(response_problems(record, output_of("DescribeRecord"))[0])
    share = {"PortfolioShareDetails": [{"Accepted": "yes"}]}
    assert "not a valid boolean" in str(
        response_problems(share, output_of("DescribePortfolioShares"))[0]
    )
    search = {"TotalResultsCount": True}
    assert "not a valid integer" in str(
        response_problems(search, output_of("SearchProvisionedProducts"))[0]
    )


def test_request_problems_read_like_aws() -> None:
    problems = request_problems(
        {"ProviderName": "p" * 51, "IdempotencyToken": "t"}, input_of("CreatePortfolio")
    )
    message = validation_message(problems)
    assert message.startswith("2 validation errors detected: ")
    assert (
        "Value null at 'displayName' failed to satisfy constraint: Member must not be null"
        in message
    )
    assert (
        "at 'providerName' failed to satisfy constraint: "
        "Member must have length less than or equal to 50" in message
    )


def test_request_nested_paths_and_numbers() -> None:
    problems = request_problems(
        {"PortfolioId": "port-1", "Type": "ACCOUNT", "PageSize": 101},
        input_of("DescribePortfolioShares"),
    )
    assert [p.path for p in problems] == ["pageSize"]
    nested = request_problems({"Key": "k", "Value": "v"}, input_of("CreateTagOption"))
    assert nested == []  # the \\p{L} pattern cannot be checked by Python's re and is skipped
    tags = request_problems(
        {"DisplayName": "d", "ProviderName": "p", "IdempotencyToken": "t", "Tags": [{"Key": "k"}]},
        input_of("CreatePortfolio"),
    )
    assert [p.path for p in tags] == ["tags.1.value"]
