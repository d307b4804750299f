"""Named log patterns with a severity and a per-invocation threshold, compiled once per container.

RULES (or the SSM parameter named by RULES_SSM_PARAMETER) holds either a JSON list of rules, added
to the defaults (a rule named like a default replaces it), or {"include_defaults": false,
"rules": [...]} to start from nothing. A rule: {"name", "pattern", "severity", "threshold",
"ignore_case"}; name, pattern are required; severity defaults to "warning", threshold to 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from log_prefilter import Prefilter, prefilter_for
from oncall_shared.errors import SettingsError

SEVERITIES = ("critical", "error", "warning", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}
MAX_RULES = 50  # each rule is one EMF metric per log group; EMF caps an object at 100 metrics
_RULE_KEYS = frozenset({"name", "pattern", "severity", "threshold", "ignore_case"})
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # used as a CloudWatch dimension value


@dataclass(frozen=True)
class Rule:
    name: str
    regex: re.Pattern[str]
    severity: str
    threshold: int
    prefilter: Prefilter | None = None  # literals every match starts with (see log_prefilter)


DEFAULT_RULE_SPECS: tuple[dict[str, Any], ...] = (
    {
        "name": "errors",
        "pattern": r"\b(?:ERROR|FATAL|CRITICAL)\b|\"level\"\s*:\s*\"(?:error|fatal|critical)\"",
        "severity": "warning",
        "threshold": 5,
    },
    {
        "name": "exceptions",
        # "Error:" also finds "ValueError:"; no \w* prefix, which would defeat the literal scan.
        "pattern": r"Traceback \(most recent call last\)|(?:Exception|Error):|"
        r"Exception in thread |\bpanic: ",
        "severity": "error",
        "threshold": 1,
    },
    {
        "name": "timeouts",
        "pattern": r"Task timed out after|\btimed out\b|\bTimeoutError\b|\bdeadline exceeded\b",
        "severity": "error",
        "threshold": 1,
        "ignore_case": True,
    },
    {
        "name": "out_of_memory",
        "pattern": r"\bout of memory\b|OutOfMemoryError|\bMemoryError\b|Cannot allocate memory|"
        r"Runtime exited with error: signal: killed|\bOOMKilled\b",
        "severity": "critical",
        "threshold": 1,
        "ignore_case": True,
    },
)


def check_settings(values: Mapping[str, str], label: Callable[[str], str] = str) -> None:
    """The settings schema: RULES, when a launch sets it inline (the template passes the rules
    through an SSM parameter, read and checked with build_rules when the function runs)."""
    text = values.get("RULES", "").strip()
    if not text:
        return
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(
            f"{label('RULES')}: is not valid JSON ({error.msg} at char {error.pos})"
        ) from None
    build_rules(raw)


def build_rules(raw: Any) -> list[Rule]:
    """Validate the configured rules (None = defaults only); errors name RULES[i].field."""
    include_defaults, user_specs = _split_config(raw)
    specs = {spec["name"]: spec for spec in DEFAULT_RULE_SPECS} if include_defaults else {}
    rules = {rule.name: rule for rule in (compile_rule(spec, "default") for spec in specs.values())}
    for index, spec in enumerate(user_specs):
        rule = compile_rule(spec, f"RULES[{index}]")
        rules[rule.name] = rule
    if not rules:
        raise SettingsError(
            f"RULES={raw!r}: no rules left (include_defaults is false and no rules)"
        )
    if len(rules) > MAX_RULES:
        raise SettingsError(f"RULES: {len(rules)} rules configured, at most {MAX_RULES} allowed")
    return list(rules.values())


def _split_config(raw: Any) -> tuple[bool, list[Any]]:
    if raw is None:
        return True, []
    if isinstance(raw, list):
        return True, raw
    if isinstance(raw, dict) and set(raw) <= {"include_defaults", "rules"}:
        include = raw.get("include_defaults", True)
        rules = raw.get("rules", [])
        if isinstance(include, bool) and isinstance(rules, list):
            return include, rules
    raise SettingsError(
        f"RULES={_short(raw)}: must be a list of rules or "
        '{"include_defaults": bool, "rules": [...]}'
    )


def compile_rule(spec: Any, label: str) -> Rule:
    if not isinstance(spec, dict):
        raise SettingsError(f"{label}={_short(spec)}: a rule must be a JSON object")
    unknown = sorted(set(spec) - _RULE_KEYS)
    if unknown:
        raise SettingsError(f"{label}: unknown key(s) {unknown}; allowed {sorted(_RULE_KEYS)}")
    name = _rule_name(spec.get("name"), label)
    regex = _rule_regex(spec.get("pattern"), spec.get("ignore_case", False), f"{label}.pattern")
    return Rule(
        name=name,
        regex=regex,
        severity=_rule_severity(spec.get("severity", "warning"), f"{label}.severity"),
        threshold=_rule_threshold(spec.get("threshold", 1), f"{label}.threshold"),
        prefilter=prefilter_for(regex),
    )


def _rule_name(value: Any, label: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise SettingsError(f"{label}.name={value!r}: must be 1-64 of letters, digits, _ . : -")
    return value


def _rule_regex(pattern: Any, ignore_case: Any, label: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise SettingsError(f"{label}={pattern!r}: must be a non-empty regular expression string")
    if not isinstance(ignore_case, bool):
        raise SettingsError(f"{label} ignore_case={ignore_case!r}: must be true or false")
    # MULTILINE: ^ and $ mean start and end of a log line, as people write them.
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    try:
        return re.compile(pattern, flags)
    except re.error as error:
        raise SettingsError(f"{label}={pattern!r}: invalid regular expression ({error})") from None


def _rule_severity(value: Any, label: str) -> str:
    if value not in SEVERITIES:
        raise SettingsError(f"{label}={value!r}: must be one of {list(SEVERITIES)}")
    return str(value)


def _rule_threshold(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{label}={value!r}: must be an integer >= 1")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."
