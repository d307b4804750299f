"""EventBridge event patterns, matched as EventBridge matches them.

moto's matcher does not look into arrays of objects (the auto-healer's
`detail.configuration.metrics[].metricStat.metric.namespace` never matched) and lets unknown
operators through; this one flattens through arrays and refuses what it does not support.

Supported: exact values (strings, numbers, booleans, null), prefix, suffix, equals-ignore-case,
anything-but (values, or a prefix/suffix/equals-ignore-case/wildcard inside), numeric, exists,
wildcard, cidr, and $or.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}
OPERATORS = (
    "prefix",
    "suffix",
    "equals-ignore-case",
    "anything-but",
    "numeric",
    "exists",
    "wildcard",
    "cidr",
)


class PatternError(ValueError):
    """An event pattern EventBridge would refuse, or one localcloud does not support."""


# -- validation ---------------------------------------------------------------------------


def validate(pattern: Any, path: str = "") -> None:
    if not isinstance(pattern, dict):
        raise PatternError(f"{path or 'the pattern'} must be a JSON object")
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            _validate_or(value, where)
        elif isinstance(value, dict):
            validate(value, where)
        elif isinstance(value, list):
            _validate_filters(value, where)
        else:
            raise PatternError(f"'{where}' must be an object or an array")


def _validate_or(alternatives: Any, where: str) -> None:
    if not isinstance(alternatives, list) or len(alternatives) < 2:
        raise PatternError(f"'{where}' must be an array of at least two patterns")
    for alternative in alternatives:
        validate(alternative, where)


def _validate_filters(filters: list[Any], where: str) -> None:
    if not filters:
        raise PatternError(f"'{where}': empty arrays are not allowed")
    for item in filters:
        if isinstance(item, dict):
            _validate_operator(item, where)
        elif isinstance(item, list):
            raise PatternError(f"'{where}': arrays inside a match array are not allowed")


def _validate_operator(item: dict[str, Any], where: str) -> None:
    if len(item) != 1:
        raise PatternError(f"'{where}': a match object takes exactly one operator, got {item}")
    [(operator, value)] = item.items()
    if operator not in OPERATORS:
        raise PatternError(
            f"'{where}': operator {operator!r} is not supported by localcloud "
            f"(supported: {', '.join(OPERATORS)})"
        )
    if operator == "numeric":
        _validate_numeric(value, where)
    elif operator == "exists" and not isinstance(value, bool):
        raise PatternError(f"'{where}': exists must be true or false, got {value!r}")
    elif operator == "anything-but" and isinstance(value, dict):
        _validate_operator(value, where)


def _validate_numeric(value: Any, where: str) -> None:
    if not isinstance(value, list) or not value or len(value) % 2 or len(value) > 4:
        raise PatternError(f"'{where}': numeric takes one or two (operator, number) pairs")
    for operator, number in zip(value[::2], value[1::2], strict=True):
        if operator not in _NUMERIC_OPERATORS:
            raise PatternError(f"'{where}': unknown numeric operator {operator!r}")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise PatternError(f"'{where}': numeric bound {number!r} is not a number")


# -- matching -----------------------------------------------------------------------------


def matches(pattern: dict[str, Any], event: Any) -> bool:
    for key, value in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in value):
                return False
        elif isinstance(value, dict):
            if not matches(value, _children(event, key)):
                return False
        elif not _field_matches(_leaves(_children(event, key)), value):
            return False
    return True


class _Many(list[Any]):
    """The values found under one key across an array of objects (EventBridge flattens them)."""


def _children(node: Any, key: str) -> Any:
    if isinstance(node, list):
        found = _Many()
        for element in node:
            child = _children(element, key)
            if isinstance(child, _Many):
                found.extend(child)
            elif child is not _MISSING:
                found.append(child)
        return found if found else _MISSING
    if isinstance(node, dict) and key in node:
        return node[key]
    return _MISSING


_MISSING: Any = object()


def _leaves(value: Any) -> list[Any]:
    """The scalar values of a field: none when it is missing or is an object."""
    if value is _MISSING:
        return []
    values = value if isinstance(value, list) else [value]
    flat: list[Any] = []
    for item in values:
        if isinstance(item, list):
            flat.extend(_leaves(item))
        elif not isinstance(item, dict):
            flat.append(item)
    return flat


def _field_matches(values: list[Any], filters: list[Any]) -> bool:
    for item in filters:
        if isinstance(item, dict):
            if _operator_matches(values, item):
                return True
        elif any(_same(value, item) for value in values):
            return True
    return False


def _same(value: Any, expected: Any) -> bool:
    # 5 and "5" differ, as do true and 1: JSON types must agree.
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(value) == float(expected)
    return type(value) is type(expected) and bool(value == expected)


def _operator_matches(values: list[Any], item: dict[str, Any]) -> bool:
    [(operator, argument)] = item.items()
    if operator == "exists":
        return bool(values) is argument
    if operator == "anything-but":
        # A missing field does not match anything-but (EventBridge needs the field present).
        return bool(values) and not any(_excluded(value, argument) for value in values)
    return any(_scalar_operator(operator, argument, value) for value in values)


def _excluded(value: Any, argument: Any) -> bool:
    if isinstance(argument, dict):
        [(operator, inner)] = argument.items()
        return _scalar_operator(operator, inner, value)
    choices = argument if isinstance(argument, list) else [argument]
    return any(_same(value, choice) for choice in choices)


def _scalar_operator(operator: str, argument: Any, value: Any) -> bool:
    if operator == "numeric":
        return _numeric(argument, value)
    if not isinstance(value, str):
        return False
    choices = argument if isinstance(argument, list) else [argument]
    return any(_string_operator(operator, choice, value) for choice in choices)


def _string_operator(operator: str, argument: Any, value: str) -> bool:
    if isinstance(argument, dict) and "equals-ignore-case" in argument:  # prefix/suffix form
        argument, value = str(argument["equals-ignore-case"]).lower(), value.lower()
    if operator == "prefix":
        return value.startswith(argument)
    if operator == "suffix":
        return value.endswith(argument)
    if operator == "equals-ignore-case":
        return value.lower() == str(argument).lower()
    if operator == "wildcard":
        return re.fullmatch(".*".join(map(re.escape, str(argument).split("*"))), value) is not None
    if operator == "cidr":
        return _in_network(value, str(argument))
    return False


def _numeric(bounds: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    pairs = zip(bounds[::2], bounds[1::2], strict=True)
    return all(_NUMERIC_OPERATORS[operator](value, bound) for operator, bound in pairs)


def _in_network(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
