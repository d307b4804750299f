"""Portfolios, products and provisioning artifacts through boto3, every response shape-checked."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import wait_for
from tests.localcloud.helpers import (
    SIMPLE_TEMPLATE,
    artifact_parameters,
    create_portfolio,
    create_product,
    put_template,
    raw_call,
)


def error_code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def artifact_status(sc: Any, product_id: str, artifact_id: str) -> str:
    answer = sc.describe_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=artifact_id
    )
    return str(answer["Status"])


def test_portfolio_lifecycle(sc: Any) -> None:
    created = sc.create_portfolio(
        DisplayName="Tools",
        ProviderName="Platform",
        Description="d",
        Tags=[{"Key": "team", "Value": "sre"}],
        IdempotencyToken="p1",
    )
    portfolio_id = created["PortfolioDetail"]["Id"]
    assert portfolio_id.startswith("port-")
    assert created["Tags"] == [{"Key": "team", "Value": "sre"}]
    updated = sc.update_portfolio(
        Id=portfolio_id,
        DisplayName="Tools 2",
        AddTags=[{"Key": "tier", "Value": "1"}],
        RemoveTags=["team"],
    )
    assert updated["PortfolioDetail"]["DisplayName"] == "Tools 2"
    assert updated["Tags"] == [{"Key": "tier", "Value": "1"}]
    described = sc.describe_portfolio(Id=portfolio_id)
    assert described["PortfolioDetail"]["Description"] == "d"
    assert [p["Id"] for p in sc.list_portfolios()["PortfolioDetails"]] == [portfolio_id]
    sc.delete_portfolio(Id=portfolio_id)
    with pytest.raises(ClientError) as info:
        sc.describe_portfolio(Id=portfolio_id)
    assert error_code(info) == "ResourceNotFoundException"
    assert portfolio_id in str(info.value)


def test_create_portfolio_is_idempotent_per_token(sc: Any) -> None:
    first = sc.create_portfolio(DisplayName="A", ProviderName="P", IdempotencyToken="same")
    second = sc.create_portfolio(DisplayName="A", ProviderName="P", IdempotencyToken="same")
    assert first["PortfolioDetail"]["Id"] == second["PortfolioDetail"]["Id"]
    assert len(sc.list_portfolios()["PortfolioDetails"]) == 1


def test_a_token_repeated_after_deletion_answers_the_deleted_portfolio(sc: Any) -> None:
    # AWS: "the same response is returned for each repeated request", with no promise that a
    # deleted resource's token starts a new one; clients must cope, so localcloud replays.
    first = sc.create_portfolio(DisplayName="A", ProviderName="P", IdempotencyToken="same")
    portfolio_id = first["PortfolioDetail"]["Id"]
    sc.delete_portfolio(Id=portfolio_id)
    again = sc.create_portfolio(DisplayName="A", ProviderName="P", IdempotencyToken="same")
    assert again["PortfolioDetail"]["Id"] == portfolio_id
    assert sc.list_portfolios()["PortfolioDetails"] == []
    with pytest.raises(ClientError) as info:
        sc.describe_portfolio(Id=portfolio_id)
    assert error_code(info) == "ResourceNotFoundException"
    fresh = sc.create_portfolio(DisplayName="A", ProviderName="P", IdempotencyToken="other")
    assert fresh["PortfolioDetail"]["Id"] != portfolio_id


def test_list_portfolios_pages(sc: Any) -> None:
    for index in range(5):
        sc.create_portfolio(DisplayName=f"P{index}", ProviderName="P", IdempotencyToken=f"t{index}")
    first = sc.list_portfolios(PageSize=2)
    assert len(first["PortfolioDetails"]) == 2
    second = sc.list_portfolios(PageSize=2, PageToken=first["NextPageToken"])
    assert {p["Id"] for p in first["PortfolioDetails"]}.isdisjoint(
        {p["Id"] for p in second["PortfolioDetails"]}
    )
    pages = list(sc.get_paginator("list_portfolios").paginate(PaginationConfig={"PageSize": 2}))
    assert sum(len(page["PortfolioDetails"]) for page in pages) == 5


def test_too_long_display_name_is_a_validation_error(sc: Any) -> None:
    with pytest.raises(ClientError) as info:
        sc.create_portfolio(DisplayName="x" * 101, ProviderName="P", IdempotencyToken="t")
    assert error_code(info) == "ValidationException"
    assert "length less than or equal to 100" in str(info.value)


def test_product_with_first_version_becomes_available(
    sc: Any, s3: Any, local_endpoint: str
) -> None:
    url = put_template(s3, local_endpoint, "templates/lp/1.json", SIMPLE_TEMPLATE)
    created = sc.create_product(
        Name="lp",
        Owner="platform",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        IdempotencyToken="lp",
        ProvisioningArtifactParameters=artifact_parameters(url),
    )
    assert created["ProductViewDetail"]["Status"] == "CREATING"  # the template is read afterwards
    product_id, artifact_id = create_product(sc, url)
    wait_for(lambda: artifact_status(sc, product_id, artifact_id), lambda s: s == "AVAILABLE")
    admin = sc.describe_product_as_admin(Id=product_id)
    assert admin["ProductViewDetail"]["Status"] == "AVAILABLE"
    assert admin["ProductViewDetail"]["ProductViewSummary"]["SupportEmail"] == "oncall@example.com"
    assert [s["Name"] for s in admin["ProvisioningArtifactSummaries"]] == ["1.0.0"]
    by_name = sc.describe_product_as_admin(Name="log-processor")
    assert by_name["ProductViewDetail"]["ProductViewSummary"]["ProductId"] == product_id


def test_unreadable_or_unparsable_template_makes_version_failed(
    sc: Any, s3: Any, local_endpoint: str
) -> None:
    missing = f"{local_endpoint}/nowhere-bucket/none.json"
    product_id, artifact_id = create_product(sc, missing, name="broken")
    wait_for(lambda: artifact_status(sc, product_id, artifact_id), lambda s: s == "FAILED")
    garbage = put_template(s3, local_endpoint, "bad.json", "{not: [json or yaml")
    second = sc.create_provisioning_artifact(
        ProductId=product_id, Parameters=artifact_parameters(garbage, "2"), IdempotencyToken="v2"
    )
    second_id = second["ProvisioningArtifactDetail"]["Id"]
    wait_for(lambda: artifact_status(sc, product_id, second_id), lambda s: s == "FAILED")


def test_yaml_template_with_short_intrinsics_is_read(sc: Any, s3: Any, local_endpoint: str) -> None:
    body = (
        "Parameters:\n  Env:\n    Type: String\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      QueueName: !Sub 'q-${Env}'\n"
    )
    url = put_template(s3, local_endpoint, "t.yaml", body)
    product_id, artifact_id = create_product(sc, url, name="yaml")
    wait_for(lambda: artifact_status(sc, product_id, artifact_id), lambda s: s == "AVAILABLE")
    answer = sc.describe_provisioning_artifact(
        ProductId=product_id,
        ProvisioningArtifactId=artifact_id,
        IncludeProvisioningArtifactParameters=True,
    )
    assert [p["ParameterKey"] for p in answer["ProvisioningArtifactParameters"]] == ["Env"]


def test_versions_describe_list_update_delete(sc: Any, s3: Any, local_endpoint: str) -> None:
    url = put_template(s3, local_endpoint, "t1.json", SIMPLE_TEMPLATE)
    product_id, first_id = create_product(sc, url)
    created = sc.create_provisioning_artifact(
        ProductId=product_id, Parameters=artifact_parameters(url, "1.1.0"), IdempotencyToken="v110"
    )
    assert created["Status"] == "CREATING"
    second_id = created["ProvisioningArtifactDetail"]["Id"]
    again = sc.create_provisioning_artifact(
        ProductId=product_id, Parameters=artifact_parameters(url, "1.1.0"), IdempotencyToken="v110"
    )
    assert again["ProvisioningArtifactDetail"]["Id"] == second_id
    verbose = sc.describe_provisioning_artifact(
        ProductName="log-processor", ProvisioningArtifactName="1.1.0", Verbose=True
    )
    assert verbose["Info"] == {"TemplateUrl": url}
    names = [
        a["Name"]
        for a in sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    ]
    assert names == ["1.0.0", "1.1.0"]
    updated = sc.update_provisioning_artifact(
        ProductId=product_id,
        ProvisioningArtifactId=first_id,
        Active=False,
        Guidance="DEPRECATED",
        Description="old",
    )
    detail = updated["ProvisioningArtifactDetail"]
    assert (detail["Active"], detail["Guidance"], detail["Description"]) == (
        False,
        "DEPRECATED",
        "old",
    )
    sc.delete_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=first_id)
    with pytest.raises(ClientError) as info:
        sc.delete_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=second_id)
    assert error_code(info) == "InvalidParametersException"
    assert "last" in str(info.value)


def test_update_provisioning_artifact_cannot_change_the_template(
    sc: Any, s3: Any, local_endpoint: str
) -> None:
    url = put_template(s3, local_endpoint, "t1.json", SIMPLE_TEMPLATE)
    other = put_template(s3, local_endpoint, "t2.json", SIMPLE_TEMPLATE)
    product_id, artifact_id = create_product(sc, url)
    # botocore refuses Info client-side; a raw client's extra member is ignored, as by AWS.
    status, _ = raw_call(
        local_endpoint,
        "AWS242ServiceCatalogService.UpdateProvisioningArtifact",
        {
            "ProductId": product_id,
            "ProvisioningArtifactId": artifact_id,
            "Info": {"LoadTemplateFromURL": other},
            "Name": "renamed",
        },
    )
    assert status == 200
    described = sc.describe_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=artifact_id, Verbose=True
    )
    assert described["Info"] == {"TemplateUrl": url}
    assert described["ProvisioningArtifactDetail"]["Name"] == "renamed"


def test_update_and_search_products(sc: Any, s3: Any, local_endpoint: str) -> None:
    url = put_template(s3, local_endpoint, "t.json", SIMPLE_TEMPLATE)
    product_id, _ = create_product(sc, url, name="alert-handler")
    create_product(sc, url, name="health-checker")
    updated = sc.update_product(
        Id=product_id, Description="routes alerts", AddTags=[{"Key": "k", "Value": "v"}]
    )
    assert updated["ProductViewDetail"]["ProductViewSummary"]["ShortDescription"] == "routes alerts"
    assert {"Key": "k", "Value": "v"} in updated["Tags"]
    found = sc.search_products_as_admin(Filters={"FullTextSearch": ["alerts"]})[
        "ProductViewDetails"
    ]
    assert [p["ProductViewSummary"]["Name"] for p in found] == ["alert-handler"]
    titles = sc.search_products_as_admin(SortBy="Title", SortOrder="DESCENDING")[
        "ProductViewDetails"
    ]
    assert [p["ProductViewSummary"]["Name"] for p in titles] == ["health-checker", "alert-handler"]
    assert sc.search_products()["ProductViewSummaries"] == []  # end users need a portfolio path
    portfolio_id = create_portfolio(sc)
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    visible = sc.search_products()["ProductViewSummaries"]
    assert [p["ProductId"] for p in visible] == [product_id]
    in_portfolio = sc.search_products_as_admin(PortfolioId=portfolio_id)["ProductViewDetails"]
    assert [p["ProductViewSummary"]["ProductId"] for p in in_portfolio] == [product_id]


def test_describe_product_shows_launch_paths_and_active_versions(
    sc: Any, s3: Any, local_endpoint: str
) -> None:
    url = put_template(s3, local_endpoint, "t.json", SIMPLE_TEMPLATE)
    product_id, artifact_id = create_product(sc, url)
    wait_for(lambda: artifact_status(sc, product_id, artifact_id), lambda s: s == "AVAILABLE")
    portfolio_id = create_portfolio(sc)
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    described = sc.describe_product(Id=product_id)
    assert [p["Name"] for p in described["LaunchPaths"]] == ["On-call tools"]
    assert [a["Id"] for a in described["ProvisioningArtifacts"]] == [artifact_id]
    sc.update_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=artifact_id, Active=False
    )
    assert sc.describe_product(Id=product_id)["ProvisioningArtifacts"] == []
    view_id = described["ProductViewSummary"]["Id"]
    assert sc.describe_product_view(Id=view_id)["ProductViewSummary"]["ProductId"] == product_id


def test_delete_product_in_portfolio_is_in_use(sc: Any, s3: Any, local_endpoint: str) -> None:
    url = put_template(s3, local_endpoint, "t.json", SIMPLE_TEMPLATE)
    product_id, _ = create_product(sc, url)
    portfolio_id = create_portfolio(sc)
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.associate_product_with_portfolio(
        ProductId=product_id, PortfolioId=portfolio_id
    )  # no-op twice
    assert [
        p["Id"] for p in sc.list_portfolios_for_product(ProductId=product_id)["PortfolioDetails"]
    ] == [portfolio_id]
    with pytest.raises(ClientError) as info:
        sc.delete_product(Id=product_id)
    assert error_code(info) == "ResourceInUseException"
    with pytest.raises(ClientError) as info:
        sc.delete_portfolio(Id=portfolio_id)
    assert error_code(info) == "ResourceInUseException"
    sc.disassociate_product_from_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    sc.delete_product(Id=product_id)
    sc.delete_portfolio(Id=portfolio_id)
    with pytest.raises(ClientError) as info:
        sc.describe_product_as_admin(Id=product_id)
    assert error_code(info) == "ResourceNotFoundException"


def test_only_cloudformation_products_and_a_template_url(sc: Any) -> None:
    with pytest.raises(ClientError) as info:
        sc.create_product(
            Name="m",
            Owner="o",
            ProductType="MARKETPLACE",
            IdempotencyToken="m",
            ProvisioningArtifactParameters={
                "Info": {"LoadTemplateFromURL": "https://x.s3.amazonaws.com/k"}
            },
        )
    assert error_code(info) == "InvalidParametersException"
    with pytest.raises(ClientError) as info:
        sc.create_product(
            Name="m",
            Owner="o",
            ProductType="CLOUD_FORMATION_TEMPLATE",
            IdempotencyToken="n",
            ProvisioningArtifactParameters={"Info": {"Other": "x"}},
        )
    assert error_code(info) == "InvalidParametersException"
    assert "LoadTemplateFromURL" in str(info.value)


def copy_status(sc: Any, token: str) -> dict[str, Any]:
    return dict(sc.describe_copy_product_status(CopyProductToken=token))


def test_copy_product_to_another_region_and_into_an_existing_product(
    sc: Any, s3: Any, local_endpoint: str, client_factory: Any
) -> None:
    url = put_template(s3, local_endpoint, "t.json", SIMPLE_TEMPLATE)
    product_id, artifact_id = create_product(sc, url)
    wait_for(lambda: artifact_status(sc, product_id, artifact_id), lambda s: s == "AVAILABLE")
    source_arn = sc.describe_product_as_admin(Id=product_id)["ProductViewDetail"]["ProductARN"]
    west = client_factory("servicecatalog", "eu-west-1")
    token = west.copy_product(
        SourceProductArn=source_arn, IdempotencyToken="copy-1", CopyOptions=["CopyTags"]
    )["CopyProductToken"]
    assert copy_status(west, token)["CopyProductStatus"] == "IN_PROGRESS"
    done = wait_for(
        lambda: copy_status(west, token), lambda s: s["CopyProductStatus"] == "SUCCEEDED"
    )
    copied = west.describe_product_as_admin(Id=done["TargetProductId"])
    assert copied["ProductViewDetail"]["ProductARN"].startswith("arn:aws:catalog:eu-west-1:")
    assert [s["Name"] for s in copied["ProvisioningArtifactSummaries"]] == ["1.0.0"]
    assert {"Key": "team", "Value": "platform"} in copied["Tags"]
    again = west.copy_product(
        SourceProductArn=source_arn,
        IdempotencyToken="copy-2",
        TargetProductId=done["TargetProductId"],
        SourceProvisioningArtifactIdentifiers=[{"Id": artifact_id}],
    )["CopyProductToken"]
    wait_for(lambda: copy_status(west, again), lambda s: s["CopyProductStatus"] == "SUCCEEDED")
    listed = west.list_provisioning_artifacts(ProductId=done["TargetProductId"])[
        "ProvisioningArtifactDetails"
    ]
    assert len(listed) == 2 and len({a["Id"] for a in listed} | {artifact_id}) == 3


def test_copy_product_errors(sc: Any) -> None:
    with pytest.raises(ClientError) as info:
        sc.copy_product(
            SourceProductArn="arn:aws:catalog:us-east-1:123456789012:product/prod-missing1234",
            IdempotencyToken="c",
        )
    assert error_code(info) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        sc.copy_product(SourceProductArn="arn:aws:s3:::bucket", IdempotencyToken="c")
    assert error_code(info) == "InvalidParametersException"
    with pytest.raises(ClientError) as info:
        sc.describe_copy_product_status(CopyProductToken="copyproduct-none")
    assert error_code(info) == "ResourceNotFoundException"
