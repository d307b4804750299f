"""Composite alarm rules: ALARM(x) / OK(x) / INSUFFICIENT_DATA(x), AND, OR, NOT, parentheses,
TRUE and FALSE, as PutCompositeAlarm's AlarmRule. An alarm is named by name or ARN, quoted or
not. Other functions (AT_LEAST...) are refused by name."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import AlarmFeatureNotSupported, InvalidAlarmRule

STATE_FUNCTIONS = ("ALARM", "OK", "INSUFFICIENT_DATA")
_TOKEN = re.compile(r'\s*(?:(?P<quoted>"[^"]*")|(?P<op>[()])|(?P<word>[^\s()"]+))')

StateOf = Callable[[str], str]
"""The current state of an alarm named by name or ARN."""
Rule = Callable[[StateOf], bool]


@dataclass(frozen=True)
class CompiledRule:
    source: str
    holds: Rule
    alarms: frozenset[str]  # the names or ARNs the rule mentions


def _tokens(source: str) -> list[str]:
    tokens, position = [], 0
    while source[position:].strip():
        match = _TOKEN.match(source, position)
        if match is None:
            raise InvalidAlarmRule(f"AlarmRule {source!r}: cannot read at {position + 1}")
        tokens.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return tokens


class _RuleParser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.position = 0
        self.alarms: set[str] = set()

    def peek(self) -> str:
        return self.tokens[self.position] if self.position < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        if not token:
            raise InvalidAlarmRule(f"AlarmRule {self.source!r} ends too early")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        if self.take() != text:
            raise InvalidAlarmRule(f"AlarmRule {self.source!r}: expected {text!r}")

    def parse(self) -> Rule:
        rule = self.any_of()
        if self.peek():
            raise InvalidAlarmRule(f"AlarmRule {self.source!r}: unexpected {self.peek()!r}")
        return rule

    def any_of(self) -> Rule:
        rules = [self.all_of()]
        while self.peek().upper() == "OR":
            self.take()
            rules.append(self.all_of())
        return rules[0] if len(rules) == 1 else lambda state: any(r(state) for r in rules)

    def all_of(self) -> Rule:
        rules = [self.negation()]
        while self.peek().upper() == "AND":
            self.take()
            rules.append(self.negation())
        return rules[0] if len(rules) == 1 else lambda state: all(r(state) for r in rules)

    def negation(self) -> Rule:
        if self.peek().upper() == "NOT":
            self.take()
            inner = self.negation()
            return lambda state: not inner(state)
        return self.atom()

    def atom(self) -> Rule:
        word = self.take()
        if word == "(":
            rule = self.any_of()
            self.expect(")")
            return rule
        if word.upper() in ("TRUE", "FALSE"):
            constant = word.upper() == "TRUE"
            return lambda state: constant
        if self.peek() == "(":
            return self.state_function(word)
        raise InvalidAlarmRule(f"AlarmRule {self.source!r}: unexpected {word!r}")

    def state_function(self, function: str) -> Rule:
        if function.upper() not in STATE_FUNCTIONS:
            raise AlarmFeatureNotSupported(
                f"AlarmRule function {function} is not supported by localcloud; supported: "
                f"{', '.join(STATE_FUNCTIONS)}, AND, OR, NOT, TRUE, FALSE"
            )
        self.expect("(")
        alarm = self.take().strip('"')
        self.expect(")")
        self.alarms.add(alarm)
        wanted = function.upper()
        return lambda state: state(alarm) == wanted


def compile_rule(source: str) -> CompiledRule:
    parser = _RuleParser(source)
    holds = parser.parse()
    return CompiledRule(source, holds, frozenset(parser.alarms))
