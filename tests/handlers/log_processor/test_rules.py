"""log_rules: defaults, user rules, and settings errors that name RULES[i].field and the value."""

from __future__ import annotations

import pytest
from log_rules import DEFAULT_RULE_SPECS, MAX_RULES, build_rules
from oncall_shared.errors import SettingsError

DEFAULT_NAMES = [spec["name"] for spec in DEFAULT_RULE_SPECS]


def test_defaults_when_nothing_configured():
    rules = build_rules(None)
    assert (
        [rule.name for rule in rules]
        == DEFAULT_NAMES
        == ["errors", "exceptions", "timeouts", "out_of_memory"]
    )


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("2026-11-28T09:15:01Z\trequest\tERROR\tboom", "errors"),
        ('{"level": "error", "msg": "x"}', "errors"),
        ("Traceback (most recent call last):", "exceptions"),
        ("ValueError: bad input", "exceptions"),
        ('Exception in thread "main" java.lang.IllegalStateException', "exceptions"),
        ("Task timed out after 3.00 seconds", "timeouts"),
        ("upstream request TIMED OUT", "timeouts"),
        ("java.lang.OutOfMemoryError: Java heap space", "out_of_memory"),
        ("Runtime exited with error: signal: killed", "out_of_memory"),
    ],
)
def test_default_rules_match_typical_lines(line, rule):
    matching = {r.name for r in build_rules(None) if r.regex.search(line)}
    assert rule in matching


@pytest.mark.parametrize(
    "line", ["INFO all good", "errors=0 retries=0", "terror alert level", "timeout_ms=300"]
)
def test_default_rules_ignore_ordinary_lines(line):
    assert not [r.name for r in build_rules(None) if r.regex.search(line)]


def test_user_list_extends_defaults_and_same_name_replaces():
    rules = build_rules(
        [
            {"name": "errors", "pattern": "E!", "threshold": 2},
            {"name": "p1", "pattern": "pay", "ignore_case": True},
        ]
    )
    by_name = {rule.name: rule for rule in rules}
    assert list(by_name) == [*DEFAULT_NAMES, "p1"]
    assert by_name["errors"].regex.pattern == "E!" and by_name["errors"].threshold == 2
    assert by_name["p1"].regex.search("PAYMENT") and by_name["p1"].severity == "warning"


def test_object_form_can_drop_defaults():
    rules = build_rules(
        {"include_defaults": False, "rules": [{"name": "only", "pattern": "x", "severity": "info"}]}
    )
    assert [(r.name, r.severity, r.threshold) for r in rules] == [("only", "info", 1)]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("rules", "RULES='rules': must be a list of rules"),
        ({"rules": [], "extra": 1}, "must be a list of rules or"),
        (["x"], "RULES\\[0\\]='x': a rule must be a JSON object"),
        ([{"pattern": "x"}], "RULES\\[0\\].name=None"),
        ([{"name": "a", "pattern": ""}], "RULES\\[0\\].pattern='': must be a non-empty"),
        (
            [{"name": "a", "pattern": "[z-a]"}],
            "RULES\\[0\\].pattern='\\[z-a\\]': invalid regular expression",
        ),
        ([{"name": "a", "pattern": "x", "severity": "high"}], "RULES\\[0\\].severity='high'"),
        ([{"name": "a", "pattern": "x", "threshold": True}], "RULES\\[0\\].threshold=True"),
        ([{"name": "a", "pattern": "x", "ignore_case": "yes"}], "ignore_case='yes'"),
    ],
)
def test_invalid_rules_name_the_path_and_value(raw, message):
    with pytest.raises(SettingsError, match=message):
        build_rules(raw)


def test_rule_count_is_capped():
    too_many = [{"name": f"r{i}", "pattern": "x"} for i in range(MAX_RULES)]
    with pytest.raises(SettingsError, match=f"at most {MAX_RULES} allowed"):
        build_rules(too_many)
