"""log_prefilter: the literal prefilter never changes which lines a rule counts."""

from __future__ import annotations

import random
import re

import pytest
from log_prefilter import prefilter_for
from log_rules import build_rules, compile_rule
from log_scan import RuleEngine, SourceTally


@pytest.mark.parametrize(
    ("pattern", "flags", "literals"),
    [
        (r"\b(?:ERROR|FATAL)\b", 0, ["ERROR", "FATAL"]),
        (r"Exception|Error:", 0, ["Error:", "Exception"]),  # parser factors the shared "E"
        (r"^WARN\s+\d+", re.M, ["WARN"]),
        (r"timed out", re.I, ["timed out"]),
        (r"abc(?i:def)", 0, ["abc"]),
    ],
)
def test_literals_found(pattern, flags, literals):
    prefilter = prefilter_for(re.compile(pattern, flags))
    assert prefilter is not None
    assert sorted(p.pattern.replace("\\", "") for p in prefilter.exact) == sorted(literals)


@pytest.mark.parametrize(
    "pattern", [r"a.*b", r"(?:abc)?def", r"x|abcdef", r"\d+ errors", r"ab?c", r"[A-Z]{5}"]
)
def test_no_prefilter_when_a_match_need_not_start_with_a_literal(pattern):
    assert prefilter_for(re.compile(pattern)) is None


def test_folded_only_for_ignorecase_ascii_literals():
    assert prefilter_for(re.compile("boom", re.I)).folded is not None
    assert prefilter_for(re.compile("boom")).folded is None
    assert prefilter_for(re.compile("straße", re.I)).folded is None


def _naive(rule_regex: re.Pattern[str], text: str) -> int:
    return sum(1 for line in text.split("\n") if rule_regex.search(line))


WORDS = [
    "ERROR",
    "error",
    "Error:",
    "timed out",
    "TIMED OUT",
    "Timed Out",
    "ok",
    "\u017ftra\u00dfe",  # long s: IGNORECASE matches it to "s", str.lower() does not
    "\u212a",  # Kelvin sign, another IGNORECASE special case
    "\u0130",  # dotted capital I: lower() makes it two characters
    "OutOfMemoryError",
    "panic: ",
    "Exception in thread ",
    "WARN",
    "x",
    "\t",
    "level",
    '"level": "error"',
]


@pytest.mark.parametrize("seed", range(8))
def test_engine_counts_equal_a_naive_line_by_line_scan(seed):
    rng = random.Random(seed)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6))) for _ in range(400)]
    text = "\n".join(lines)
    rules = [
        *build_rules(None),
        compile_rule({"name": "anchored", "pattern": r"^WARN\b"}, "t"),
        compile_rule({"name": "icase", "pattern": r"timed out|straße", "ignore_case": True}, "t"),
    ]
    tally = SourceTally("g", "s", "u")
    RuleEngine(rules, 3).scan(text, tally)
    for rule in rules:
        assert tally.count(rule.name) == _naive(rule.regex, text), rule.name
    ascii_text = text.encode("ascii", "ignore").decode()
    ascii_tally = SourceTally("g", "s", "u")
    RuleEngine(rules, 3).scan(ascii_text, ascii_tally)  # the lowered fast path
    for rule in rules:
        assert ascii_tally.count(rule.name) == _naive(rule.regex, ascii_text), rule.name
