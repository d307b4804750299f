"""log_rules at its edges: the exact rule limit, the object form's defaults and types, messages.

These close gaps a mutation run found (docs/testing.md): nothing checked that exactly the limit
is accepted, that a non-boolean include_defaults or a non-list rules is refused, or what the
refusals say in full.
"""

from __future__ import annotations

import pytest
from log_prefilter import prefilter_for
from log_rules import DEFAULT_RULE_SPECS, MAX_RULES, build_rules
from oncall_shared.errors import SettingsError

DEFAULT_NAMES = [spec["name"] for spec in DEFAULT_RULE_SPECS]
OBJECT_FORM = '{"include_defaults": bool, "rules": [...]}'


def rules_named(count: int) -> list[dict[str, str]]:
    return [{"name": f"r{i}", "pattern": "x"} for i in range(count)]


def refusal(raw: object) -> str:
    with pytest.raises(SettingsError) as raised:
        build_rules(raw)
    return str(raised.value)


def test_exactly_the_limit_is_accepted_and_one_more_is_refused() -> None:
    at_limit = {"include_defaults": False, "rules": rules_named(MAX_RULES)}
    assert len(build_rules(at_limit)) == MAX_RULES
    over = {"include_defaults": False, "rules": rules_named(MAX_RULES + 1)}
    assert refusal(over) == f"RULES: {MAX_RULES + 1} rules configured, at most 50 allowed"


def test_the_defaults_count_towards_the_limit() -> None:
    assert len(build_rules(rules_named(MAX_RULES - len(DEFAULT_NAMES)))) == MAX_RULES
    assert "51 rules configured" in refusal(rules_named(MAX_RULES - len(DEFAULT_NAMES) + 1))


@pytest.mark.parametrize("include", ["false", 0, 1, None, "no", []])
def test_a_non_boolean_include_defaults_is_refused(include: object) -> None:
    raw = {"include_defaults": include, "rules": rules_named(1)}
    assert refusal(raw) == f"RULES={raw!r}: must be a list of rules or {OBJECT_FORM}"


@pytest.mark.parametrize("rules", [None, {"name": "a", "pattern": "x"}, "r0"])
def test_rules_that_are_not_a_list_are_refused(rules: object) -> None:
    raw = {"include_defaults": True, "rules": rules}
    assert refusal(raw) == f"RULES={raw!r}: must be a list of rules or {OBJECT_FORM}"


def test_the_object_form_keeps_the_defaults_unless_told_otherwise() -> None:
    names = [rule.name for rule in build_rules({"rules": rules_named(1)})]
    assert names == [*DEFAULT_NAMES, "r0"]


def test_the_object_form_without_rules_is_the_defaults() -> None:
    assert [rule.name for rule in build_rules({"include_defaults": True})] == DEFAULT_NAMES


def test_no_rules_left_is_refused_naming_the_setting() -> None:
    raw = {"include_defaults": False}
    assert refusal(raw) == (
        "RULES={'include_defaults': False}: no rules left (include_defaults is false and no rules)"
    )


def test_unknown_rule_keys_are_named_with_the_allowed_ones() -> None:
    message = refusal([{"name": "a", "pattern": "x", "level": "error"}])
    assert message == (
        "RULES[0]: unknown key(s) ['level']; allowed "
        "['ignore_case', 'name', 'pattern', 'severity', 'threshold']"
    )


@pytest.mark.parametrize("threshold", [0, -1])
def test_a_threshold_below_one_is_refused(threshold: int) -> None:
    message = refusal([{"name": "a", "pattern": "x", "threshold": threshold}])
    assert message == f"RULES[0].threshold={threshold}: must be an integer >= 1"


def test_a_threshold_that_is_not_a_number_is_refused() -> None:
    message = refusal([{"name": "a", "pattern": "x", "threshold": "5"}])
    assert message == "RULES[0].threshold='5': must be an integer >= 1"


def test_patterns_are_case_sensitive_unless_ignore_case_is_set() -> None:
    exact, loose = build_rules(
        {
            "include_defaults": False,
            "rules": [
                {"name": "exact", "pattern": "Disk full"},
                {"name": "loose", "pattern": "Disk full", "ignore_case": True},
            ],
        }
    )
    assert exact.regex.search("DISK FULL") is None
    assert loose.regex.search("DISK FULL") is not None


def test_each_rule_carries_its_literal_prefilter() -> None:
    rules = build_rules([{"name": "disk", "pattern": "Disk full"}])
    for rule in rules:
        assert rule.prefilter is not None
        assert rule.prefilter == prefilter_for(rule.regex)


def test_a_long_value_is_cut_at_200_characters_in_messages() -> None:
    long_value = "x" * 300
    assert refusal(long_value) == (
        f"RULES={long_value!r}"[:206] + f"...: must be a list of rules or {OBJECT_FORM}"
    )
    exact = "y" * 198  # repr adds two quotes: 200 characters, shown whole
    assert refusal(exact) == f"RULES={exact!r}: must be a list of rules or {OBJECT_FORM}"
    one_more = "y" * 199  # 201 characters: cut
    assert refusal(one_more) == (f"RULES='{one_more}...: must be a list of rules or {OBJECT_FORM}")
