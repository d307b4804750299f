"""Checks of request and response documents against botocore's service model.

Requests are checked the way AWS's front end does (required members, types, enums, lengths,
patterns) so a raw client gets the same ValidationException as from AWS. Responses are checked
strictly (no unknown keys, right types) by the tests, against the raw JSON, because botocore's
parser silently drops keys it does not know.
"""

import re
from dataclasses import dataclass
from typing import Any

# Java regex classes that Python's re cannot compile; patterns using them are not enforced.
_UNSUPPORTED_PATTERN_TOKENS = ("\\p{",)
_NUMBER_TYPES = ("integer", "long", "double", "float")


@dataclass(frozen=True)
class ShapeProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


class RequestChecker:
    """Walks a request document and collects AWS-style constraint violations."""

    def __init__(self) -> None:
        self.problems: list[ShapeProblem] = []

    def check(self, value: Any, shape: Any, path: str = "") -> list[ShapeProblem]:
        self._walk(value, shape, path)
        return self.problems

    def _add(self, path: str, value: Any, constraint: str) -> None:
        shown = "null" if value is None else f"'{value}'"
        self.problems.append(
            ShapeProblem(
                path, f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
            )
        )

    def _walk(self, value: Any, shape: Any, path: str) -> None:
        kind = shape.type_name
        if kind == "structure":
            self._walk_structure(value, shape, path)
        elif kind == "list":
            self._walk_list(value, shape, path)
        elif kind == "map":
            self._walk_map(value, shape, path)
        elif kind == "string":
            self._walk_string(value, shape, path)
        elif kind == "boolean" and not isinstance(value, bool):
            self._add(path, value, "Member must be a boolean")
        elif kind in _NUMBER_TYPES:
            self._walk_number(value, shape, path)

    def _walk_structure(self, value: Any, shape: Any, path: str) -> None:
        if not isinstance(value, dict):
            self._add(path, value, "Member must be a structure")
            return
        for name in shape.required_members:
            if value.get(name) is None:
                self._add(_join(path, _lower_camel(name)), None, "Member must not be null")
        for name, member_value in value.items():
            if name in shape.members and member_value is not None:
                self._walk(member_value, shape.members[name], _join(path, _lower_camel(name)))

    def _walk_list(self, value: Any, shape: Any, path: str) -> None:
        if not isinstance(value, list):
            self._add(path, value, "Member must be a list")
            return
        self._check_length(len(value), value, shape, path)
        for index, item in enumerate(value):
            self._walk(item, shape.member, f"{path}.{index + 1}")

    def _walk_map(self, value: Any, shape: Any, path: str) -> None:
        if not isinstance(value, dict):
            self._add(path, value, "Member must be a map")
            return
        for key, item in value.items():
            self._walk(key, shape.key, f"{path}.key")
            self._walk(item, shape.value, f"{path}.{key}")

    def _walk_string(self, value: Any, shape: Any, path: str) -> None:
        if not isinstance(value, str):
            self._add(path, value, "Member must be a string")
            return
        self._check_length(len(value), value, shape, path)
        enum = shape.enum
        if enum and value not in enum:
            self._add(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and not _matches(pattern, value):
            self._add(path, value, f"Member must satisfy regular expression pattern: {pattern}")

    def _walk_number(self, value: Any, shape: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._add(path, value, "Member must be a number")
            return
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self._add(path, value, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            self._add(path, value, f"Member must have value less than or equal to {high}")

    def _check_length(self, length: int, value: Any, shape: Any, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and length < low:
            self._add(path, value, f"Member must have length greater than or equal to {low}")
        if high is not None and length > high:
            self._add(path, value, f"Member must have length less than or equal to {high}")


def _matches(pattern: str, value: str) -> bool:
    if any(token in pattern for token in _UNSUPPORTED_PATTERN_TOKENS):
        return True
    try:
        return _anchored_match(pattern, value)
    except re.error:
        return True


def _anchored_match(pattern: str, value: str) -> bool:
    # AWS applies a pattern to the whole value even when it carries no ^...$ anchors.
    return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is not None


def request_problems(params: dict[str, Any], input_shape: Any) -> list[ShapeProblem]:
    """Constraint violations of a request, worded like AWS's ValidationException."""
    if input_shape is None:
        return []
    return RequestChecker().check(params, input_shape)


def validation_message(problems: list[ShapeProblem]) -> str:
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(problem.message for problem in problems)
    return f"{count} validation {noun} detected: {details}"


class ResponseChecker:
    """Walks a raw response document; anything botocore's model does not allow is a problem."""

    def __init__(self) -> None:
        self.problems: list[ShapeProblem] = []

    def check(self, value: Any, shape: Any, path: str = "$") -> list[ShapeProblem]:
        self._walk(value, shape, path)
        return self.problems

    def _add(self, path: str, message: str) -> None:
        self.problems.append(ShapeProblem(path, message))

    def _walk(self, value: Any, shape: Any, path: str) -> None:
        kind = shape.type_name
        walker = {
            "structure": self._walk_structure,
            "list": self._walk_list,
            "map": self._walk_map,
            "string": self._walk_string,
        }.get(kind)
        if walker is not None:
            walker(value, shape, path)
        elif not _scalar_fits(kind, value):
            self._add(path, f"{value!r} is not a valid {kind}")

    def _walk_structure(self, value: Any, shape: Any, path: str) -> None:
        if not isinstance(value, dict):
            self._add(path, f"expected an object for {shape.name}, got {type(value).__name__}")
            return
        for name in shape.required_members:
            if name not in value:
                self._add(path, f"required member {name} of {shape.name} is missing")
        for name, member_value in value.items():
            if name not in shape.members:
                self._add(path, f"unknown member {name} in {shape.name}")
            else:
                self._walk(member_value, shape.members[name], f"{path}.{name}")

    def _walk_list(self, value: Any, shape: Any, path: str) -> None:
        if not isinstance(value, list):
            self._add(path, f"expected a list, got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            self._walk(item, shape.member, f"{path}[{index}]")

    def _walk_map(self, value: Any, shape: Any, path: str) -> None:
        if not isinstance(value, dict):
            self._add(path, f"expected a map, got {type(value).__name__}")
            return
        for key, item in value.items():
            self._walk(key, shape.key, f"{path}<key>")
            self._walk(item, shape.value, f"{path}[{key!r}]")

    def _walk_string(self, value: Any, shape: Any, path: str) -> None:
        if not isinstance(value, str):
            self._add(path, f"{value!r} is not a string")
        elif shape.enum and value not in shape.enum:
            self._add(path, f"{value!r} is not one of {shape.enum}")


def _scalar_fits(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("double", "float", "timestamp"):
        # The JSON protocol sends timestamps as epoch seconds.
        return isinstance(value, int | float) and not isinstance(value, bool)
    return kind == "blob" and isinstance(value, str)


def response_problems(document: Any, output_shape: Any) -> list[ShapeProblem]:
    """Everything in a raw JSON response that botocore's output shape does not allow."""
    if output_shape is None:
        return [] if document in ({}, None) else [ShapeProblem("$", "operation has no output")]
    return ResponseChecker().check(document, output_shape)
