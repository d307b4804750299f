"""DynamoDB responses written without walking the AttributeValue shape for every value.

moto serializes a response by walking botocore's shape model member by member, and an item is a
map of AttributeValue structures of ten members each: a BatchGetItem of 100 five-attribute items
spent about 70% of its server time there (py-spy over localcloud's process), about 90 ms a call.
On the wire an AttributeValue is its one member as it is (`{"S": "x"}`, `{"N": "1"}`), binary
in base64: this serializer writes exactly that and leaves every other shape to moto's.
"""

from typing import Any

from moto.core.serialize import SERVICE_SPECIFIC_SERIALIZERS, JSONSerializer

_ATTRIBUTE_VALUE = "AttributeValue"
_TEXT = frozenset({"S", "N"})
_TEXT_SETS = frozenset({"SS", "NS"})
_FLAGS = frozenset({"NULL", "BOOL"})
_NESTED = frozenset({"M", "L"})
_MEMBERS = _TEXT | _TEXT_SETS | _FLAGS | _NESTED | {"B", "BS"}


class DynamoDbJsonSerializer(JSONSerializer):
    """moto's JSON serializer with a direct path for the values of items."""

    def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if not (key and shape.name == _ATTRIBUTE_VALUE and _is_plain_attribute_value(value)):
            super()._serialize_type_structure(serialized, value, shape, key)
            return
        written: dict[str, Any] = {}
        for member, content in value.items():
            if content is None:
                continue  # as moto: absent members are left out
            if member in _NESTED:
                # A map or list of values: moto's walk, which comes back here for each value.
                self._serialize(written, content, shape.members[member], member)
            else:
                written[member] = self._scalar(member, content)
        self._default_serialize(serialized, written, shape, key)

    def _scalar(self, member: str, content: Any) -> Any:
        if member in _TEXT:
            return _text(content)
        if member in _TEXT_SETS:
            return [_text(element) for element in content]
        if member == "B":
            return self._base64(content)
        if member == "BS":
            return [self._base64(element) for element in content]
        return content  # NULL, BOOL: JSON booleans as they are


def _text(content: Any) -> Any:
    # As moto's string serialization: str() of anything but None and empty containers.
    return str(content) if content not in (None, {}, []) else content


def _is_plain_attribute_value(value: Any) -> bool:
    """A dict of AttributeValue members only (anything else takes moto's general path)."""
    return isinstance(value, dict) and bool(value) and value.keys() <= _MEMBERS


def install_dynamodb_serializer() -> None:
    """Idempotent: DynamoDB's JSON responses go through DynamoDbJsonSerializer."""
    SERVICE_SPECIFIC_SERIALIZERS.setdefault("dynamodb", {})["json"] = DynamoDbJsonSerializer
