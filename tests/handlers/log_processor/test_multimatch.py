"""log_multimatch: Hyperscan proposes lines, re confirms; counts and samples equal re alone."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from log_multimatch import Untranslatable, hyperscan_pattern, load_hyperscan
from log_rules import Rule, build_rules, compile_rule
from log_scan import RuleEngine, SourceTally
from oncall_shared.errors import SettingsError


def test_the_test_environment_has_the_hyperscan_wheel() -> None:
    # Without it every test below would compare re with itself.
    assert load_hyperscan() is not None, "pip install hyperscan==0.9.1 (see requirements)"


# Pieces of patterns people write, and the corners where Python's re and PCRE read text apart.
FRAGMENTS = [
    "ERROR", "err", "Error:", "40[13] ", r"\b", r"\B", "^", "$", r"\A", r"\Z", r"\d+", r"\d{2,}",
    r"\w+", r"\W", r"\s", r"\s*", r"\S+", ".", ".*", "[^x]", "[a-c]", "[^ ]+", "x{,2}", "a?",
    "(?:ab|cd)", "(?i:abc)", "(?=ab)", "(?<!x)", "(?<=a)", "(ab)", "[\\s\\d]", "\\x1c", ":",
    "(?s:.)", "\u00e9", "k", "\\t", "ab|", "\\x22level\\x22",
]  # fmt: skip
ALPHABET = 'abcdkxERO:=  \t\x1c401 3"leve\u00e9\u212a_9'


def _engines(rules: list[Rule]) -> tuple[RuleEngine, RuleEngine]:
    return RuleEngine(rules, 3), RuleEngine(rules, 3, multimatch=False)


def _results(engine: RuleEngine, blocks: list[str]) -> dict[str, tuple[int, list[str]]]:
    tally = SourceTally("g", "s", "u")
    for block in blocks:
        engine.scan(block, tally)
    return {name: (t.count, t.samples) for name, t in tally.rules.items()} | {
        "lines": (tally.lines, [])
    }


@st.composite
def rule_specs(draw: st.DrawFn) -> list[dict[str, object]]:
    specs = []
    for index in range(draw(st.integers(1, 4))):
        pattern = "".join(draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4)))
        specs.append({"name": f"r{index}", "pattern": pattern, "ignore_case": draw(st.booleans())})
    return specs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=rule_specs(),
    blocks=st.lists(
        st.lists(st.text(ALPHABET, max_size=30), min_size=1, max_size=8).map("\n".join),
        min_size=1,
        max_size=3,
    ),
)
def test_random_rules_and_lines_give_todays_counts_and_samples(
    specs: list[dict[str, object]], blocks: list[str]
) -> None:
    try:
        rules = [compile_rule(spec, "test") for spec in specs]
    except SettingsError:  # a random pattern may simply be invalid
        return
    fast, reference = _engines(rules)
    assert _results(fast, blocks) == _results(reference, blocks)


def _user_rules() -> list[Rule]:
    return build_rules(
        [
            {"name": "auth", "pattern": r"\b40[13] "},
            {"name": "slow", "pattern": r"duration: \d{4,} ms"},
            {"name": "retries", "pattern": "retries exhausted", "ignore_case": True},
        ]
    )


def test_the_default_and_typical_rules_all_go_to_hyperscan() -> None:
    fast, _ = _engines(_user_rules())
    assert fast.multi is not None
    assert sorted(rule.name for rule in fast.multi.rules) == sorted(r.name for r in fast.rules)


def test_a_batch_counts_the_same_with_both_engines() -> None:
    lines = [
        "GET /x 401 12ms", "ERROR db down", "ok", "duration: 12345 ms", "RETRIES EXHAUSTED",
        'x "level": "error"', "ValueError: bad", "ok 4011 ", "Task timed out after 3.00 seconds",
    ] * 50  # fmt: skip
    fast, reference = _engines(_user_rules())
    block = "\n".join(lines)
    assert _results(fast, [block]) == _results(reference, [block])
    assert _results(fast, [block])["auth"][0] == 50


def test_a_non_ascii_block_goes_through_re() -> None:
    # U+212A KELVIN SIGN is "k" for re under IGNORECASE; Hyperscan's byte mode does not know it.
    rules = [compile_rule({"name": "k", "pattern": "kill", "ignore_case": True}, "test")]
    fast, _ = _engines(rules)
    tally = SourceTally("g", "s", "u")
    fast.scan("\u212aill\nkILL\n", tally)
    assert tally.count("k") == 2


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a)\1", "GROUPREF"),
        ("\u00e9t\u00e9", "non-ASCII"),
        (r"\A\d", "across lines"),
        (r"a\s+b", "across lines"),
    ],
)
def test_rules_hyperscan_cannot_take_are_named(pattern: str, why: str) -> None:
    rule = compile_rule({"name": "r", "pattern": pattern}, "test")
    with pytest.raises(Untranslatable, match=why):
        hyperscan_pattern(rule)


def test_pcre_and_python_readings_differ_so_the_tree_is_rebuilt() -> None:
    # Python reads x{,2} as 0 to 2 x's; PCRE as the literal text "x{,2}".
    rule = compile_rule({"name": "r", "pattern": "ax{,2}b"}, "test")
    assert hyperscan_pattern(rule) == b"a(?:x){0,2}b"
