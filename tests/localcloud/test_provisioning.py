"""Launching products: real stacks in the local CloudFormation, records polled like on AWS."""

import copy
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
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
)

FULL_TEMPLATE = json.loads((Path(__file__).parent / "templates" / "full_product.json").read_text())
LAUNCH_ROLE_NAME = "OncallCatalogLaunchRole"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "servicecatalog.amazonaws.com"},
            }
        ],
    }
)


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def finished_record(sc: Any, record_id: str) -> dict[str, Any]:
    answer = wait_for(
        lambda: sc.describe_record(Id=record_id),
        lambda r: r["RecordDetail"]["Status"] in ("SUCCEEDED", "FAILED"),
    )
    return dict(answer)


def available(sc: Any, product_id: str, artifact_id: str) -> None:
    wait_for(
        lambda: sc.describe_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=artifact_id
        ),
        lambda a: a["Status"] != "CREATING",
    )


class Catalog:
    """A product in a portfolio, ready to launch; each test adds what it checks."""

    def __init__(self, sc: Any, s3: Any, endpoint: str, template: dict[str, Any]) -> None:
        self.sc, self.s3, self.endpoint = sc, s3, endpoint
        url = put_template(s3, endpoint, "templates/p/1.json", template)
        self.product_id, self.v1 = create_product(sc, url)
        self.portfolio_id = create_portfolio(sc)
        sc.associate_product_with_portfolio(
            ProductId=self.product_id, PortfolioId=self.portfolio_id
        )
        available(sc, self.product_id, self.v1)

    def add_version(self, template: dict[str, Any], name: str) -> str:
        url = put_template(self.s3, self.endpoint, f"templates/p/{name}.json", template)
        answer = self.sc.create_provisioning_artifact(
            ProductId=self.product_id,
            Parameters=artifact_parameters(url, name),
            IdempotencyToken=f"v-{name}".replace(".", "-"),
        )
        artifact_id = str(answer["ProvisioningArtifactDetail"]["Id"])
        available(self.sc, self.product_id, artifact_id)
        return artifact_id

    def constrain(self, kind: str, parameters: dict[str, Any]) -> None:
        self.sc.create_constraint(
            PortfolioId=self.portfolio_id,
            ProductId=self.product_id,
            Type=kind,
            Parameters=json.dumps(parameters),
            IdempotencyToken=f"{kind}-{len(json.dumps(parameters))}",
        )

    def provision(self, name: str, artifact_id: str | None = None, **params: str) -> Any:
        return self.sc.provision_product(
            ProductId=self.product_id,
            ProvisioningArtifactId=artifact_id or self.v1,
            ProvisionedProductName=name,
            ProvisioningParameters=[{"Key": k, "Value": v} for k, v in params.items()],
            ProvisionToken=f"tok-{name}",
            Tags=[{"Key": "team", "Value": "sre"}],
        )


@pytest.fixture
def simple(sc: Any, s3: Any, local_endpoint: str) -> Catalog:
    return Catalog(sc, s3, local_endpoint, SIMPLE_TEMPLATE)


@pytest.fixture
def full(sc: Any, s3: Any, local_endpoint: str, client_factory: Callable[..., Any]) -> Catalog:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    s3.create_bucket(Bucket="catalog-artifacts-us-east-1")
    s3.put_object(
        Bucket="catalog-artifacts-us-east-1",
        Key="packages/log_processor/abc.zip",
        Body=buffer.getvalue(),
    )
    client_factory("iam").create_role(RoleName=LAUNCH_ROLE_NAME, AssumeRolePolicyDocument=TRUST)
    catalog = Catalog(sc, s3, local_endpoint, FULL_TEMPLATE)
    catalog.constrain("LAUNCH", {"LocalRoleName": LAUNCH_ROLE_NAME})
    sc.associate_principal_with_portfolio(
        PortfolioId=catalog.portfolio_id,
        PrincipalType="IAM_PATTERN",
        PrincipalARN="arn:aws:iam:::role/Oncall*",
    )
    option = sc.create_tag_option(Key="cost-center", Value="ops")["TagOptionDetail"]
    sc.associate_tag_option_with_resource(ResourceId=catalog.portfolio_id, TagOptionId=option["Id"])
    return catalog


def test_launch_update_and_terminate_a_full_product(
    full: Catalog, client_factory: Callable[..., Any]
) -> None:
    sc = full.sc
    record = full.provision("log-processor-prod", Environment="prod")["RecordDetail"]
    assert record["Status"] == "CREATED" and record["RecordType"] == "PROVISION_PRODUCT"
    done = finished_record(sc, record["RecordId"])
    assert done["RecordDetail"]["Status"] == "SUCCEEDED", done["RecordDetail"]["RecordErrors"]
    assert (
        done["RecordDetail"]["LaunchRoleArn"]
        == f"arn:aws:iam::123456789012:role/{LAUNCH_ROLE_NAME}"
    )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in done["RecordOutputs"]}
    stack_arn = outputs["CloudformationStackARN"]
    cloudformation = client_factory("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_arn)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["RoleARN"] == done["RecordDetail"]["LaunchRoleArn"]
    tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
    assert tags["team"] == "sre" and tags["aws:servicecatalog:productArn"].endswith(full.product_id)
    alarms = client_factory("cloudwatch").describe_alarms()["MetricAlarms"]
    assert f"{stack['StackName']}-errors" in {a["AlarmName"] for a in alarms}
    assert all(a["AlarmActions"] for a in alarms if "Dlq" not in a["AlarmName"])
    pp = sc.describe_provisioned_product(Name="log-processor-prod")["ProvisionedProductDetail"]
    assert (pp["Status"], pp["ProvisioningArtifactId"]) == ("AVAILABLE", full.v1)

    v2_template = copy.deepcopy(FULL_TEMPLATE)
    v2_template["Resources"]["ErrorsAlarm"]["Properties"]["EvaluationPeriods"] = 2
    v2 = full.add_version(v2_template, "1.1.0")
    updated = sc.update_provisioned_product(
        ProvisionedProductName="log-processor-prod",
        ProvisioningArtifactId=v2,
        ProvisioningParameters=[{"Key": "Environment", "UsePreviousValue": True}],
        UpdateToken="upd-1",
    )["RecordDetail"]
    assert updated["RecordType"] == "UPDATE_PROVISIONED_PRODUCT"
    assert finished_record(sc, updated["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    errors_alarm = client_factory("cloudwatch").describe_alarms(
        AlarmNames=[f"{stack['StackName']}-errors"]
    )
    assert errors_alarm["MetricAlarms"][0]["EvaluationPeriods"] == 2
    assert (
        sc.describe_provisioned_product(Id=pp["Id"])["ProvisionedProductDetail"][
            "ProvisioningArtifactId"
        ]
        == v2
    )
    with pytest.raises(ClientError) as info:
        sc.delete_provisioning_artifact(ProductId=full.product_id, ProvisioningArtifactId=v2)
    assert code_of(info) == "ResourceInUseException"

    terminated = sc.terminate_provisioned_product(
        ProvisionedProductId=pp["Id"], TerminateToken="term-1"
    )
    assert (
        finished_record(sc, terminated["RecordDetail"]["RecordId"])["RecordDetail"]["Status"]
        == "SUCCEEDED"
    )
    with pytest.raises(ClientError) as info:
        sc.describe_provisioned_product(Id=pp["Id"])
    assert code_of(info) == "ResourceNotFoundException"
    assert client_factory("cloudwatch").describe_alarms()["MetricAlarms"] == []
    deleted = cloudformation.describe_stacks(StackName=stack_arn)["Stacks"][0]
    assert deleted["StackStatus"] == "DELETE_COMPLETE"


def test_provisioning_parameters_and_launch_paths(full: Catalog) -> None:
    sc = full.sc
    answer = sc.describe_provisioning_parameters(
        ProductId=full.product_id, ProvisioningArtifactId=full.v1
    )
    environment = next(
        p for p in answer["ProvisioningArtifactParameters"] if p["ParameterKey"] == "Environment"
    )
    assert environment["ParameterConstraints"]["AllowedValues"] == ["dev", "staging", "prod"]
    assert "DefaultValue" not in environment
    assert [c["Type"] for c in answer["ConstraintSummaries"]] == ["LAUNCH"]
    assert answer["TagOptions"] == [{"Key": "cost-center", "Values": ["ops"]}]
    assert {o["Key"] for o in answer["ProvisioningArtifactOutputKeys"]} >= {
        "FunctionArn",
        "AlarmName",
    }
    paths = sc.list_launch_paths(ProductId=full.product_id)["LaunchPathSummaries"]
    assert [(p["Name"], [c["Type"] for c in p["ConstraintSummaries"]]) for p in paths] == [
        ("On-call tools", ["LAUNCH"])
    ]


def test_failing_stack_fails_record_with_the_stack_reason(full: Catalog) -> None:
    broken = copy.deepcopy(FULL_TEMPLATE)
    broken["Resources"]["Subscription"]["Properties"]["DestinationArn"] = (
        "arn:aws:lambda:us-east-1:123456789012:function:gone"
    )
    v2 = full.add_version(broken, "broken")
    record = full.provision("broken-dev", v2, Environment="dev")["RecordDetail"]
    done = finished_record(full.sc, record["RecordId"])["RecordDetail"]
    assert done["Status"] == "FAILED"
    assert "Could not execute the lambda function" in done["RecordErrors"][0]["Description"]
    pp = full.sc.describe_provisioned_product(Name="broken-dev")["ProvisionedProductDetail"]
    assert pp["Status"] == "ERROR" and "lambda" in pp["StatusMessage"]
    with pytest.raises(ClientError) as info:
        full.sc.update_provisioned_product(ProvisionedProductName="broken-dev", UpdateToken="u")
    assert code_of(info) == "InvalidParametersException"


def test_template_rules_section_is_evaluated(full: Catalog) -> None:
    record = full.provision("rules-prod", Environment="prod", AlertTopicArn="nope")["RecordDetail"]
    done = finished_record(full.sc, record["RecordId"])["RecordDetail"]
    assert done["Status"] == "FAILED"
    assert "prod needs a real topic" in done["RecordErrors"][0]["Description"]


def test_parameter_values_are_checked_like_cloudformation(simple: Catalog) -> None:
    bad = simple.provision("bad-env", Environment="qa")["RecordDetail"]
    assert (
        "must be one of AllowedValues"
        in finished_record(simple.sc, bad["RecordId"])["RecordDetail"]["RecordErrors"][0][
            "Description"
        ]
    )
    long = simple.provision("long-suffix", QueueSuffix="x" * 11)["RecordDetail"]
    assert finished_record(simple.sc, long["RecordId"])["RecordDetail"]["Status"] == "FAILED"
    with pytest.raises(ClientError) as info:
        simple.provision("unknown-param", Nope="1")
    assert code_of(info) == "InvalidParametersException"
    required = copy.deepcopy(SIMPLE_TEMPLATE)
    del required["Parameters"]["Environment"]["Default"]
    v2 = simple.add_version(required, "2")
    missing = simple.provision("missing", v2)["RecordDetail"]
    errors = finished_record(simple.sc, missing["RecordId"])["RecordDetail"]["RecordErrors"]
    assert errors[0]["Description"] == "Parameters: [Environment] must have values"


def test_template_constraint_rules_reject_launch(simple: Catalog) -> None:
    simple.constrain(
        "TEMPLATE",
        {
            "Rules": {
                "ProdOnlyMain": {
                    "RuleCondition": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]},
                    "Assertions": [
                        {
                            "Assert": {"Fn::Contains": [["main", "blue"], {"Ref": "QueueSuffix"}]},
                            "AssertDescription": "prod queues are main or blue",
                        }
                    ],
                }
            }
        },
    )
    with pytest.raises(ClientError) as info:
        simple.provision("prod-red", Environment="prod", QueueSuffix="red")
    assert code_of(info) == "InvalidParametersException"
    assert "prod queues are main or blue" in str(info.value)
    ok = simple.provision("dev-red", Environment="dev", QueueSuffix="red")["RecordDetail"]
    assert finished_record(simple.sc, ok["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as info:
        simple.sc.update_provisioned_product(
            ProvisionedProductName="dev-red",
            UpdateToken="u1",
            ProvisioningParameters=[
                {"Key": "Environment", "Value": "prod"},
                {"Key": "QueueSuffix", "UsePreviousValue": True},
            ],
        )
    assert code_of(info) == "InvalidParametersException"


def test_launch_role_must_exist(simple: Catalog) -> None:
    simple.constrain("LAUNCH", {"LocalRoleName": "MissingRole"})
    with pytest.raises(ClientError) as info:
        simple.provision("no-role")
    assert code_of(info) == "InvalidParametersException"
    assert "MissingRole" in str(info.value)


def test_deprecated_and_inactive_versions(simple: Catalog) -> None:
    sc = simple.sc
    record = simple.provision("existing")["RecordDetail"]
    finished_record(sc, record["RecordId"])
    sc.update_provisioning_artifact(
        ProductId=simple.product_id, ProvisioningArtifactId=simple.v1, Guidance="DEPRECATED"
    )
    with pytest.raises(ClientError) as info:
        simple.provision("new-one")
    assert code_of(info) == "InvalidParametersException"
    update = sc.update_provisioned_product(ProvisionedProductName="existing", UpdateToken="u-dep")[
        "RecordDetail"
    ]
    assert finished_record(sc, update["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    sc.update_provisioning_artifact(
        ProductId=simple.product_id, ProvisioningArtifactId=simple.v1, Active=False
    )
    with pytest.raises(ClientError) as info:
        sc.update_provisioned_product(ProvisionedProductName="existing", UpdateToken="u-inactive")
    assert code_of(info) == "InvalidParametersException"


def test_names_tokens_and_paths(simple: Catalog, sc: Any, s3: Any, local_endpoint: str) -> None:
    first = simple.provision("same")["RecordDetail"]
    replay = simple.provision("same")["RecordDetail"]  # same ProvisionToken: same record
    assert replay["RecordId"] == first["RecordId"]
    with pytest.raises(ClientError) as info:
        sc.provision_product(
            ProductId=simple.product_id,
            ProvisioningArtifactId=simple.v1,
            ProvisionedProductName="same",
            ProvisionToken="other-token",
        )
    assert code_of(info) == "DuplicateResourceException"
    url = put_template(s3, local_endpoint, "orphan.json", SIMPLE_TEMPLATE)
    orphan_id, orphan_v1 = create_product(sc, url, name="orphan")
    available(sc, orphan_id, orphan_v1)
    with pytest.raises(ClientError) as info:
        sc.provision_product(
            ProductId=orphan_id,
            ProvisioningArtifactId=orphan_v1,
            ProvisionedProductName="orphan",
            ProvisionToken="t",
        )
    assert code_of(info) == "ResourceNotFoundException"
    assert "No launch paths" in str(info.value)


def test_search_scan_history_and_outputs(simple: Catalog) -> None:
    sc = simple.sc
    for name in ("alpha-dev", "beta-dev"):
        finished_record(sc, simple.provision(name)["RecordDetail"]["RecordId"])
    found = sc.search_provisioned_products(Filters={"SearchQuery": ["name:alpha-dev"]})
    assert found["TotalResultsCount"] == 1
    product = found["ProvisionedProducts"][0]
    assert (
        product["ProductName"] == "log-processor" and product["ProvisioningArtifactName"] == "1.0.0"
    )
    assert product["PhysicalId"].startswith("arn:aws:cloudformation:")
    assert product["Tags"] == [{"Key": "team", "Value": "sre"}]
    assert len(sc.scan_provisioned_products()["ProvisionedProducts"]) == 2
    assert len(sc.list_record_history()["RecordDetails"]) == 2
    outputs = sc.get_provisioned_product_outputs(
        ProvisionedProductName="alpha-dev", OutputKeys=["QueueUrl"]
    )
    assert outputs["Outputs"][0]["OutputValue"].endswith("q-dev-main")


def test_failed_version_cannot_be_launched(simple: Catalog, s3: Any, local_endpoint: str) -> None:
    answer = simple.sc.create_provisioning_artifact(
        ProductId=simple.product_id,
        IdempotencyToken="missing",
        Parameters=artifact_parameters(
            f"{local_endpoint}/catalog-artifacts-us-east-1/missing.json", "9"
        ),
    )
    broken = answer["ProvisioningArtifactDetail"]["Id"]
    available(simple.sc, simple.product_id, broken)
    with pytest.raises(ClientError) as info:
        simple.provision("from-failed", broken)
    assert code_of(info) == "InvalidParametersException"
    assert "FAILED" in str(info.value)


def test_terminate_requested_during_launch_runs_after_it(
    simple: Catalog, client_factory: Callable[..., Any]
) -> None:
    sc = simple.sc
    launch = simple.provision("quick")["RecordDetail"]
    pp_id = launch["ProvisionedProductId"]
    terminate = sc.terminate_provisioned_product(
        ProvisionedProductId=pp_id, TerminateToken="t-quick"
    )
    assert finished_record(sc, launch["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    assert (
        finished_record(sc, terminate["RecordDetail"]["RecordId"])["RecordDetail"]["Status"]
        == "SUCCEEDED"
    )
    assert client_factory("sqs").list_queues().get("QueueUrls", []) == []


def test_resource_update_constraint_governs_tag_updates(simple: Catalog) -> None:
    sc = simple.sc
    finished_record(sc, simple.provision("tagged")["RecordDetail"]["RecordId"])
    simple.constrain(
        "RESOURCE_UPDATE",
        {"Version": "2.0", "Properties": {"TagUpdateOnProvisionedProduct": "NOT_ALLOWED"}},
    )
    with pytest.raises(ClientError) as info:
        sc.update_provisioned_product(
            ProvisionedProductName="tagged",
            UpdateToken="tags-1",
            Tags=[{"Key": "team", "Value": "platform"}],
        )
    assert code_of(info) == "InvalidParametersException"
    same_tags = sc.update_provisioned_product(
        ProvisionedProductName="tagged",
        UpdateToken="tags-2",
        Tags=[{"Key": "team", "Value": "sre"}],
    )["RecordDetail"]
    assert finished_record(sc, same_tags["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"


def test_notification_constraint_reaches_the_stack(
    simple: Catalog, client_factory: Callable[..., Any]
) -> None:
    topic = client_factory("sns").create_topic(Name="stack-events")["TopicArn"]
    simple.constrain("NOTIFICATION", {"NotificationArns": [topic]})
    done = finished_record(simple.sc, simple.provision("notified")["RecordDetail"]["RecordId"])
    stack_arn = next(
        o["OutputValue"]
        for o in done["RecordOutputs"]
        if o["OutputKey"] == "CloudformationStackARN"
    )
    stack = client_factory("cloudformation").describe_stacks(StackName=stack_arn)["Stacks"][0]
    assert stack["NotificationARNs"] == [topic]


def test_failed_update_taints_and_a_good_update_heals(
    full: Catalog, client_factory: Callable[..., Any]
) -> None:
    sc = full.sc
    first = full.provision("heal-dev", Environment="dev")["RecordDetail"]
    assert finished_record(sc, first["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    broken = copy.deepcopy(FULL_TEMPLATE)
    broken["Resources"]["Subscription"]["Properties"]["DestinationArn"] = (
        "arn:aws:lambda:us-east-1:123456789012:function:gone"
    )
    bad = full.add_version(broken, "2-0-0")
    update = sc.update_provisioned_product(
        ProvisionedProductName="heal-dev",
        ProvisioningArtifactId=bad,
        UpdateToken="bad",
        ProvisioningParameters=[{"Key": "Environment", "UsePreviousValue": True}],
    )["RecordDetail"]
    failed = finished_record(sc, update["RecordId"])["RecordDetail"]
    assert failed["Status"] == "FAILED"
    assert "Could not execute the lambda function" in failed["RecordErrors"][0]["Description"]
    pp = sc.describe_provisioned_product(Name="heal-dev")["ProvisionedProductDetail"]
    assert (pp["Status"], pp["ProvisioningArtifactId"]) == ("TAINTED", full.v1)
    assert pp["LastSuccessfulProvisioningRecordId"] == first["RecordId"]
    healed = sc.update_provisioned_product(
        ProvisionedProductName="heal-dev",
        ProvisioningArtifactId=full.v1,
        UpdateToken="good",
        ProvisioningParameters=[{"Key": "Environment", "Value": "dev"}],
    )["RecordDetail"]
    assert finished_record(sc, healed["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    assert (
        sc.describe_provisioned_product(Name="heal-dev")["ProvisionedProductDetail"]["Status"]
        == "AVAILABLE"
    )


YAML_TEMPLATE = """
Parameters:
  Environment:
    Type: String
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub 'yaml-${Environment}'
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Join ['-', [yaml, !Ref Environment, depth]]
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - Name: QueueName
          Value: !GetAtt Queue.QueueName
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 1
      Threshold: !If [IsProd, 1, 10]
      ComparisonOperator: GreaterThanThreshold
Outputs:
  QueueArn:
    Value: !GetAtt [Queue, Arn]
"""


def test_yaml_product_with_short_form_intrinsics(
    sc: Any, s3: Any, local_endpoint: str, client_factory: Callable[..., Any]
) -> None:
    catalog = Catalog(sc, s3, local_endpoint, SIMPLE_TEMPLATE)
    url = put_template(s3, local_endpoint, "templates/p/yaml.yaml", YAML_TEMPLATE)
    answer = sc.create_provisioning_artifact(
        ProductId=catalog.product_id,
        IdempotencyToken="yaml",
        Parameters=artifact_parameters(url, "yaml"),
    )
    yaml_version = answer["ProvisioningArtifactDetail"]["Id"]
    available(sc, catalog.product_id, yaml_version)
    done = finished_record(
        sc,
        catalog.provision("yaml-prod", yaml_version, Environment="prod")["RecordDetail"][
            "RecordId"
        ],
    )
    assert done["RecordDetail"]["Status"] == "SUCCEEDED", done["RecordDetail"]["RecordErrors"]
    alarm = client_factory("cloudwatch").describe_alarms(AlarmNames=["yaml-prod-depth"])[
        "MetricAlarms"
    ][0]
    assert alarm["Threshold"] == 1.0
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": "yaml-prod"}]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in done["RecordOutputs"]}
    assert outputs["QueueArn"].endswith(":yaml-prod")
