"""CloudWatch Logs filter patterns for subscription filters.

Supported, as CloudWatch Logs reads them:
- "" (every event);
- terms and "quoted phrases", all of which must appear (case-sensitive);
- -term / -"phrase" exclusions combined with them ("ERROR -Healthcheck");
- ?term alternatives, any of which must appear ("?ERROR ?WARN");
- JSON patterns `{ $.field OP value }` joined by && or || (&& binds tighter), with = and != on
  strings (* wildcards), numbers, true/false/null and <, <=, >, >= on numbers.
Space-delimited patterns (`[ip, user, ...]`), regular expressions (`%...%`) and parentheses
inside JSON patterns are refused with an error that names them.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

Matcher = Callable[[str], bool]
_JSON_COMPARISON = re.compile(
    r"^\$\.(?P<path>[A-Za-z0-9_.\[\]-]+)\s*(?P<op>!=|<=|>=|=|<|>)\s*(?P<value>.+?)$"
)


class FilterPatternError(ValueError):
    """A filter pattern localcloud cannot evaluate (the message names the pattern)."""


def compile_pattern(pattern: str) -> Matcher:
    text = pattern.strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        return _json_pattern(text, pattern)
    if text.startswith("["):
        raise FilterPatternError(
            f"filter pattern {pattern!r}: space-delimited patterns are not supported by localcloud"
        )
    if text.startswith("%"):
        raise FilterPatternError(
            f"filter pattern {pattern!r}: regular expressions are not supported by localcloud"
        )
    return _term_pattern(text, pattern)


def _term_pattern(text: str, pattern: str) -> Matcher:
    try:
        words = shlex.split(text, posix=True)
    except ValueError as error:
        raise FilterPatternError(f"filter pattern {pattern!r}: {error}") from None
    alternatives = [w[1:] for w in words if w.startswith("?")]
    excluded = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
    required = [w for w in words if not w.startswith(("?", "-"))]
    if alternatives and (required or excluded):
        raise FilterPatternError(
            f"filter pattern {pattern!r}: ?alternatives mixed with other terms are not supported"
            " by localcloud"
        )
    if alternatives:
        return lambda message: any(term in message for term in alternatives)
    return lambda message: (
        all(t in message for t in required) and not any(t in message for t in excluded)
    )


def _json_pattern(text: str, pattern: str) -> Matcher:
    if not text.endswith("}"):
        raise FilterPatternError(f"filter pattern {pattern!r}: a JSON pattern ends with }}")
    body = text[1:-1].strip()
    if "(" in body or ")" in body:
        raise FilterPatternError(
            f"filter pattern {pattern!r}: parentheses in JSON patterns are not supported by"
            " localcloud"
        )
    disjuncts = [
        [_comparison(part.strip(), pattern) for part in alternative.split("&&")]
        for alternative in body.split("||")
    ]

    def matches(message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False  # a JSON pattern never matches a message that is not JSON
        return any(all(test(document) for test in conjunction) for conjunction in disjuncts)

    return matches


def _comparison(text: str, pattern: str) -> Callable[[Any], bool]:
    found = _JSON_COMPARISON.match(text)
    if found is None:
        raise FilterPatternError(
            f"filter pattern {pattern!r}: {text!r} is not a comparison localcloud supports"
            " ($.field OP value)"
        )
    path, operator = found.group("path").split("."), found.group("op")
    expected = _literal(found.group("value").strip(), pattern)
    if operator in ("<", "<=", ">", ">=") and not isinstance(expected, int | float):
        raise FilterPatternError(f"filter pattern {pattern!r}: {operator} needs a number")
    return lambda document: _compare(_lookup(document, path), operator, expected)


def _literal(text: str, pattern: str) -> Any:
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return text[1:-1]
    if text in ("true", "false", "null"):
        return json.loads(text)
    try:
        return float(text)
    except ValueError:
        return text  # an unquoted string value, as CloudWatch Logs allows


_ABSENT = object()


def _lookup(document: Any, path: list[str]) -> Any:
    node = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _ABSENT
        node = node[key]
    return node


def _compare(value: Any, operator: str, expected: Any) -> bool:
    if value is _ABSENT:
        return False
    if isinstance(expected, str):
        equal = isinstance(value, str) and _wildcard_equal(value, expected)
    elif isinstance(expected, bool) or expected is None:
        equal = value is expected
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return _numeric(float(value), operator, float(expected))
    else:
        equal = False
    return equal if operator == "=" else (not equal if operator == "!=" else False)


def _wildcard_equal(value: str, expected: str) -> bool:
    regex = ".*".join(re.escape(part) for part in expected.split("*"))
    return re.fullmatch(regex, value) is not None


def _numeric(value: float, operator: str, expected: float) -> bool:
    return {
        "=": value == expected,
        "!=": value != expected,
        "<": value < expected,
        "<=": value <= expected,
        ">": value > expected,
        ">=": value >= expected,
    }[operator]
