"""localcloud writes DynamoDB items directly instead of walking moto's shape model per value: the
bytes must be exactly those moto's own serializer writes, for every kind of value and nesting."""

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model

from localcloud.dynamodb_json import DynamoDbJsonSerializer

_DYNAMODB = get_service_model("dynamodb")  # the model moto serializes with
_SCALARS = ("S", "N", "B", "SS", "NS", "BS", "NULL", "BOOL")


def random_value(rng: random.Random, depth: int) -> dict[str, Any]:
    """One AttributeValue as moto hands it to the serializer (binary as raw bytes)."""
    kind = rng.choice(_SCALARS + (("M", "L") if depth < 3 else ()))
    text = "".join(rng.choice('aZ9 _-é"\\\n') for _ in range(rng.randint(0, 6)))
    # moto keeps numbers as text; an int must be written as text too (as moto's walk does).
    number: Any = rng.choice([str, int])(rng.randint(-(10**6), 10**6))
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 5)))
    made: dict[str, Any] = {
        "S": text,
        "N": number,
        "B": raw,
        "SS": [text, text + "x"],
        "NS": [number, "1.5"],
        "BS": [raw, raw + b"\0"],
        "NULL": True,
        "BOOL": rng.random() < 0.5,
    }
    if kind == "M":
        return {"M": random_item(rng, depth + 1)}
    if kind == "L":
        return {"L": [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    return {kind: made[kind]}


def random_item(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    return {f"a{index}": random_value(rng, depth) for index in range(rng.randint(0, 6))}


def serialized(serializer: type[JSONSerializer], operation: str, result: Any) -> str:
    writer = serializer(
        operation_model=_DYNAMODB.operation_model(operation),
        value_picker=XFormedAttributePicker(),
    )
    return str(writer.serialize(result)["body"])


RESULTS: dict[str, Callable[[random.Random], Any]] = {
    "GetItem": lambda rng: {"Item": random_item(rng)},
    "BatchGetItem": lambda rng: {
        "Responses": {"table": [random_item(rng) for _ in range(5)]},
        "UnprocessedKeys": {},
        "ConsumedCapacity": [{"CapacityUnits": 5, "TableName": "table"}],
    },
    "Query": lambda rng: {
        "Items": [random_item(rng) for _ in range(4)],
        "Count": 4,
        "ScannedCount": 4,
        "LastEvaluatedKey": {"pk": {"S": "target#x"}},
    },
    "Scan": lambda rng: {"Items": [random_item(rng) for _ in range(4)], "Count": 4},
    "PutItem": lambda rng: {"Attributes": random_item(rng)},
}


@pytest.mark.parametrize("operation", sorted(RESULTS))
@pytest.mark.parametrize("seed", range(40))
def test_items_are_written_byte_for_byte_as_moto_writes_them(operation: str, seed: int) -> None:
    result = RESULTS[operation](random.Random(f"{operation}-{seed}"))
    ours = serialized(DynamoDbJsonSerializer, operation, result)
    assert ours == serialized(JSONSerializer, operation, result)
    json.loads(ours)  # and valid JSON


def test_a_value_that_is_not_an_attribute_value_takes_moto_s_path() -> None:
    # Not a dict of AttributeValue members: moto's walk decides what is written (here: nothing).
    result = {"Item": {"odd": {"Unknown": "x"}, "fine": {"S": "y"}}}
    assert serialized(DynamoDbJsonSerializer, "GetItem", result) == serialized(
        JSONSerializer, "GetItem", result
    )


def test_every_kind_of_value_round_trips_through_the_local_endpoint(
    client_factory: Callable[..., Any],
) -> None:
    dynamodb = client_factory("dynamodb")
    dynamodb.create_table(
        TableName="round-trip",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {
        "pk": {"S": "key"},
        "text": {"S": 'é " \\ line\nbreak'},
        "number": {"N": "-12.5"},
        "binary": {"B": b"\x00\xffraw"},
        "texts": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
        "binaries": {"BS": [b"\x01", b"\x02"]},
        "nothing": {"NULL": True},
        "flag": {"BOOL": False},
        "map": {"M": {"inner": {"L": [{"N": "1"}, {"M": {"deep": {"B": b"\x03"}}}]}}},
    }
    dynamodb.put_item(TableName="round-trip", Item=item)
    got = dynamodb.get_item(TableName="round-trip", Key={"pk": {"S": "key"}})["Item"]
    batch = dynamodb.batch_get_item(
        RequestItems={"round-trip": {"Keys": [{"pk": {"S": "key"}}], "ConsistentRead": True}}
    )["Responses"]["round-trip"]
    # Sets come back in any order, as from DynamoDB.
    sets = {"texts", "numbers", "binaries"}
    for found in (got, batch[0]):
        for name in sets:
            kind = next(iter(item[name]))
            assert sorted(found.pop(name)[kind]) == sorted(item[name][kind])
    expected = {name: value for name, value in item.items() if name not in sets}
    assert got == expected
    assert batch == [expected]
