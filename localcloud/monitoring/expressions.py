"""Metric math for alarms: the subset of CloudWatch's expression language the products use.

Supported: numbers, metric ids, + - * /, unary minus, comparisons (> >= < <= == !=), AND / &&,
OR / ||, NOT, parentheses and the functions IF(condition, a[, b]), FILL(series, number|REPEAT)
and ABS(x). Any other function is refused by name when the alarm is created.

Every value is a time series: one float (or None, no datapoint) per period of the alarm's
evaluation range. As in CloudWatch, arithmetic on a missing datapoint gives no datapoint, and so
does a division by zero; FILL is the way to turn missing datapoints into numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import AlarmFeatureNotSupported, InvalidAlarmRule

Series = list[float | None]
SUPPORTED_FUNCTIONS = ("IF", "FILL", "ABS")

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||>=|<=|==|!=|[-+*/(),<>^]))"
)


@dataclass(frozen=True)
class Token:
    kind: str  # number | name | op | end
    text: str


def tokenize(source: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise InvalidAlarmRule(f"cannot read expression {source!r} at character {position + 1}")
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return [*tokens, Token("end", "")]


Node = Callable[[Mapping[str, Series], int], Series]
"""A compiled expression: (series by metric id, length of the evaluation range) -> series."""


class _MathParser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.position = 0
        self.ids: set[str] = set()

    def peek(self) -> Token:
        return self.tokens[self.position]

    def take(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise InvalidAlarmRule(
                f"expression {self.source!r}: expected {text!r}, found {token.text or 'the end'!r}"
            )

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token.text in words or (token.kind == "name" and token.text.upper() in words)

    def parse(self) -> Node:
        node = self.logical_or()
        if self.peek().kind != "end":
            raise InvalidAlarmRule(f"expression {self.source!r}: unexpected {self.peek().text!r}")
        return node

    def logical_or(self) -> Node:
        node = self.logical_and()
        while self.at_word("OR", "||"):
            self.take()
            node = _binary(node, self.logical_and(), lambda a, b: float(bool(a) or bool(b)))
        return node

    def logical_and(self) -> Node:
        node = self.comparison()
        while self.at_word("AND", "&&"):
            self.take()
            node = _binary(node, self.comparison(), lambda a, b: float(bool(a) and bool(b)))
        return node

    def comparison(self) -> Node:
        node = self.additive()
        if self.peek().text in _COMPARISONS:
            compare = _COMPARISONS[self.take().text]
            node = _binary(node, self.additive(), lambda a, b: float(compare(a, b)))
        return node

    def additive(self) -> Node:
        node = self.term()
        while self.peek().text in ("+", "-"):
            if self.take().text == "+":
                node = _binary(node, self.term(), lambda a, b: a + b)
            else:
                node = _binary(node, self.term(), lambda a, b: a - b)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek().text in ("*", "/"):
            if self.take().text == "*":
                node = _binary(node, self.unary(), lambda a, b: a * b)
            else:
                node = _binary(node, self.unary(), _divide)
        return node

    def unary(self) -> Node:
        if self.peek().text == "-":
            self.take()
            return _unary(self.unary(), lambda a: -a)
        if self.at_word("NOT"):
            self.take()
            return _unary(self.unary(), lambda a: float(not a))
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return _constant(float(token.text))
        if token.text == "(":
            node = self.logical_or()
            self.expect(")")
            return node
        if token.kind == "name" and self.peek().text == "(":
            return self.function(token.text)
        if token.kind == "name":
            self.ids.add(token.text)
            return _metric(token.text)
        raise InvalidAlarmRule(
            f"expression {self.source!r}: unexpected {token.text or 'end of expression'!r}"
        )

    def function(self, name: str) -> Node:
        if name.upper() not in SUPPORTED_FUNCTIONS:
            raise AlarmFeatureNotSupported(
                f"metric math function {name} (in {self.source!r}) is not supported by "
                f"localcloud; supported: arithmetic, comparisons, AND/OR/NOT and "
                f"{', '.join(SUPPORTED_FUNCTIONS)}"
            )
        self.expect("(")
        if name.upper() == "FILL":
            return self.fill_arguments()
        arguments = [self.logical_or()]
        while self.peek().text == ",":
            self.take()
            arguments.append(self.logical_or())
        self.expect(")")
        return _call(name.upper(), arguments, self.source)

    def fill_arguments(self) -> Node:
        series = self.logical_or()
        self.expect(",")
        if self.at_word("REPEAT"):
            self.take()
            self.expect(")")
            return _fill_repeat(series)
        value = self.logical_or()
        self.expect(")")
        return _fill_value(series, value)


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _divide(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def _constant(value: float) -> Node:
    return lambda series, length: [value] * length


def _metric(metric_id: str) -> Node:
    return lambda series, length: list(series[metric_id])


def _unary(node: Node, operation: Callable[[float], float]) -> Node:
    def run(series: Mapping[str, Series], length: int) -> Series:
        return [None if a is None else operation(a) for a in node(series, length)]

    return run


def _binary(left: Node, right: Node, operation: Callable[[float, float], float | None]) -> Node:
    def run(series: Mapping[str, Series], length: int) -> Series:
        pairs = zip(left(series, length), right(series, length), strict=True)
        return [None if a is None or b is None else operation(a, b) for a, b in pairs]

    return run


def _call(name: str, arguments: list[Node], source: str) -> Node:
    if name == "ABS" and len(arguments) == 1:
        return _unary(arguments[0], abs)
    if name == "IF" and len(arguments) in (2, 3):
        return _if(*arguments)
    raise InvalidAlarmRule(
        f"expression {source!r}: {name} does not take {len(arguments)} argument(s)"
    )


def _if(condition: Node, then: Node, otherwise: Node | None = None) -> Node:
    def run(series: Mapping[str, Series], length: int) -> Series:
        chosen = otherwise(series, length) if otherwise else [None] * length
        triples = zip(condition(series, length), then(series, length), chosen, strict=True)
        return [None if c is None else (a if c else b) for c, a, b in triples]

    return run


def _fill_value(node: Node, value: Node) -> Node:
    def run(series: Mapping[str, Series], length: int) -> Series:
        pairs = zip(node(series, length), value(series, length), strict=True)
        return [b if a is None else a for a, b in pairs]

    return run


def _fill_repeat(node: Node) -> Node:
    def run(series: Mapping[str, Series], length: int) -> Series:
        filled: Series = []
        last: float | None = None
        for value in node(series, length):
            last = value if value is not None else last
            filled.append(last)
        return filled

    return run


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    evaluate: Node
    metric_ids: frozenset[str]


def compile_expression(source: str) -> CompiledExpression:
    """Parse once (at PutMetricAlarm, so a bad or unsupported expression is refused there)."""
    parser = _MathParser(source)
    node = parser.parse()
    return CompiledExpression(source, node, frozenset(parser.ids))
