"""Provisioned product plans: the resource changes of a launch or an update, before it runs."""

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import wait_for
from tests.localcloud.helpers import SIMPLE_TEMPLATE
from tests.localcloud.test_provisioning import Catalog, code_of, finished_record

# A queue, and a topic subscription whose Endpoint is the queue's ARN: replacing the queue
# changes the subscription's endpoint too.
SUBSCRIBED = copy.deepcopy(SIMPLE_TEMPLATE)
SUBSCRIBED["Resources"].update(
    {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Subscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "Protocol": "sqs",
                "TopicArn": {"Ref": "Topic"},
                "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
            },
        },
    }
)


@pytest.fixture
def simple(sc: Any, s3: Any, local_endpoint: str) -> Catalog:
    return Catalog(sc, s3, local_endpoint, SIMPLE_TEMPLATE)


@pytest.fixture
def subscribed(sc: Any, s3: Any, local_endpoint: str) -> Catalog:
    return Catalog(sc, s3, local_endpoint, SUBSCRIBED)


def create_plan(
    catalog: Catalog, name: str, artifact_id: str | None = None, **params: str
) -> dict[str, Any]:
    return dict(
        catalog.sc.create_provisioned_product_plan(
            PlanName=f"plan-{name}",
            PlanType="CLOUDFORMATION",
            ProductId=catalog.product_id,
            ProvisioningArtifactId=artifact_id or catalog.v1,
            ProvisionedProductName=name,
            ProvisioningParameters=[{"Key": k, "Value": v} for k, v in params.items()],
            IdempotencyToken=f"plan-{name}-{len(params)}-{artifact_id or 'v1'}",
        )
    )


def described(sc: Any, plan_id: str) -> dict[str, Any]:
    answer = wait_for(
        lambda: sc.describe_provisioned_product_plan(PlanId=plan_id),
        lambda a: a["ProvisionedProductPlanDetails"]["Status"] != "CREATE_IN_PROGRESS",
    )
    return dict(answer)


def launched(catalog: Catalog, name: str, **params: str) -> None:
    record = catalog.provision(name, **params)["RecordDetail"]
    assert finished_record(catalog.sc, record["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"


def test_a_plan_for_a_new_name_adds_every_resource_and_runs_when_executed(simple: Catalog) -> None:
    sc = simple.sc
    plan = create_plan(simple, "q-dev", Environment="dev")
    pp = sc.describe_provisioned_product(Name="q-dev")["ProvisionedProductDetail"]
    assert (pp["Id"], pp["Status"]) == (plan["ProvisionProductId"], "PLAN_IN_PROGRESS")
    answer = described(sc, plan["PlanId"])
    assert answer["ProvisionedProductPlanDetails"]["Status"] == "CREATE_SUCCESS"
    assert [
        (c["Action"], c["LogicalResourceId"], c["ResourceType"]) for c in answer["ResourceChanges"]
    ] == [("ADD", "Queue", "AWS::SQS::Queue")]

    record = sc.execute_provisioned_product_plan(PlanId=plan["PlanId"], IdempotencyToken="x1")
    assert record["RecordDetail"]["RecordType"] == "PROVISION_PRODUCT"
    assert finished_record(sc, record["RecordDetail"]["RecordId"])["RecordDetail"]["Status"] == (
        "SUCCEEDED"
    )
    details = sc.describe_provisioned_product_plan(PlanId=plan["PlanId"])
    assert details["ProvisionedProductPlanDetails"]["Status"] == "EXECUTE_SUCCESS"
    sc.delete_provisioned_product_plan(PlanId=plan["PlanId"])
    assert sc.describe_provisioned_product(Name="q-dev")["ProvisionedProductDetail"]["Status"] == (
        "AVAILABLE"
    )
    assert sc.list_provisioned_product_plans()["ProvisionedProductPlans"] == []


def test_deleting_a_plan_nobody_executed_removes_the_new_name(simple: Catalog) -> None:
    sc = simple.sc
    plan = create_plan(simple, "q-dev")
    described(sc, plan["PlanId"])
    listed = sc.list_provisioned_product_plans(ProvisionProductId=plan["ProvisionProductId"])
    assert [p["PlanId"] for p in listed["ProvisionedProductPlans"]] == [plan["PlanId"]]
    sc.delete_provisioned_product_plan(PlanId=plan["PlanId"])
    with pytest.raises(ClientError) as info:
        sc.describe_provisioned_product(Name="q-dev")
    assert code_of(info) == "ResourceNotFoundException"


def test_a_changed_parameter_replaces_the_queue_and_what_refers_to_it(subscribed: Catalog) -> None:
    sc = subscribed.sc
    launched(subscribed, "q-dev", QueueSuffix="main")
    plan = create_plan(subscribed, "q-dev", QueueSuffix="blue")
    changes = {c["LogicalResourceId"]: c for c in described(sc, plan["PlanId"])["ResourceChanges"]}
    assert set(changes) == {"Queue", "Subscription"}
    queue = changes["Queue"]
    assert (queue["Action"], queue["Replacement"], queue["Scope"]) == (
        "MODIFY",
        "TRUE",
        ["PROPERTIES"],
    )
    assert queue["Details"] == [
        {
            "Target": {
                "Attribute": "PROPERTIES",
                "Name": "QueueName",
                "RequiresRecreation": "ALWAYS",
            },
            "Evaluation": "STATIC",
            "CausingEntity": "QueueSuffix",
        }
    ]
    assert queue["PhysicalResourceId"].endswith("/q-dev-main")
    subscription = changes["Subscription"]
    assert (subscription["Action"], subscription["Replacement"]) == ("MODIFY", "CONDITIONAL")
    assert subscription["Details"] == [
        {
            "Target": {
                "Attribute": "PROPERTIES",
                "Name": "Endpoint",
                "RequiresRecreation": "ALWAYS",
            },
            "Evaluation": "DYNAMIC",
            "CausingEntity": "Queue.Arn",
        }
    ]


def test_a_new_version_adds_modifies_in_place_and_removes(subscribed: Catalog) -> None:
    sc = subscribed.sc
    launched(subscribed, "q-dev")
    v2 = copy.deepcopy(SUBSCRIBED)
    del v2["Resources"]["Subscription"]
    v2["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] = 60
    v2["Resources"]["Dlq"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    version = subscribed.add_version(v2, "2.0.0")
    plan = create_plan(subscribed, "q-dev", artifact_id=version)
    changes = {
        c["LogicalResourceId"]: (c["Action"], c.get("Replacement"))
        for c in described(sc, plan["PlanId"])["ResourceChanges"]
    }
    assert changes == {
        "Queue": ("MODIFY", "FALSE"),
        "Dlq": ("ADD", None),
        "Subscription": ("REMOVE", None),
    }
    record = sc.execute_provisioned_product_plan(PlanId=plan["PlanId"], IdempotencyToken="x2")
    assert record["RecordDetail"]["RecordType"] == "UPDATE_PROVISIONED_PRODUCT"
    assert finished_record(sc, record["RecordDetail"]["RecordId"])["RecordDetail"]["Status"] == (
        "SUCCEEDED"
    )
    pp = sc.describe_provisioned_product(Name="q-dev")["ProvisionedProductDetail"]
    assert pp["ProvisioningArtifactId"] == version


def test_a_value_cloudformation_refuses_fails_the_plan_and_it_cannot_run(simple: Catalog) -> None:
    sc = simple.sc
    plan = create_plan(simple, "q-qa", Environment="qa")
    details = described(sc, plan["PlanId"])["ProvisionedProductPlanDetails"]
    assert details["Status"] == "CREATE_FAILED"
    assert details["StatusMessage"] == "Parameter 'Environment' must be one of AllowedValues"
    with pytest.raises(ClientError) as info:
        sc.execute_provisioned_product_plan(PlanId=plan["PlanId"], IdempotencyToken="x3")
    assert code_of(info) == "InvalidStateException"


def test_one_plan_at_a_time_and_only_for_a_product_that_can_change(simple: Catalog) -> None:
    sc = simple.sc
    first = create_plan(simple, "q-dev")
    with pytest.raises(ClientError) as info:
        create_plan(simple, "q-dev", Environment="prod")
    assert code_of(info) == "InvalidStateException"
    assert first["PlanId"] in str(info.value)
    # ProvisionProduct takes a value the stack refuses: the provisioned product ends ERROR.
    record = simple.provision("q-bad", Environment="qa")["RecordDetail"]
    assert finished_record(sc, record["RecordId"])["RecordDetail"]["Status"] == "FAILED"
    pp = sc.describe_provisioned_product(Name="q-bad")["ProvisionedProductDetail"]
    assert pp["Status"] == "ERROR"
    with pytest.raises(ClientError) as info:
        create_plan(simple, "q-bad")
    assert code_of(info) == "InvalidStateException"
    assert "is ERROR" in str(info.value)
