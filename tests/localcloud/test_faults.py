"""Injected faults: chosen requests get a real AWS error over HTTP, the others are served."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import LocalCloud

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def dynamodb(local_endpoint: str) -> Any:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=local_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_RETRIES,
    )
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def put(dynamodb: Any, key: str) -> None:
    dynamodb.put_item(TableName="t", Item={"pk": {"S": key}})


def test_a_fault_answers_its_operation_with_the_aws_error_then_is_spent(
    localcloud: LocalCloud, dynamodb: Any
) -> None:
    fault = localcloud.inject_fault(
        "dynamodb", "PutItem", "AccessDeniedException", "not authorized to PutItem", times=1
    )
    with pytest.raises(ClientError) as raised:
        put(dynamodb, "a")
    assert raised.value.response["Error"] == {
        "Code": "AccessDeniedException",
        "Message": "not authorized to PutItem",
    }
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    put(dynamodb, "b")
    assert fault.answered == 1
    assert [i["pk"]["S"] for i in dynamodb.scan(TableName="t")["Items"]] == ["b"]


def test_a_fault_leaves_other_operations_and_services_alone(
    localcloud: LocalCloud, dynamodb: Any, local_endpoint: str
) -> None:
    localcloud.inject_fault("dynamodb", "GetItem", "ThrottlingException")
    localcloud.inject_fault("monitoring", "PutItem", "ThrottlingException")
    put(dynamodb, "a")
    with pytest.raises(ClientError, match="ThrottlingException"):
        dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}})
    with pytest.raises(ClientError, match="ThrottlingException"):  # every time: no `times`
        dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}})


def test_reset_clears_the_faults(localcloud: LocalCloud, dynamodb: Any) -> None:
    localcloud.inject_fault("dynamodb", "DescribeTable", "ThrottlingException")
    localcloud.reset()
    assert dynamodb.list_tables()["TableNames"] == []
