"""Derive a cheap literal prefilter from a rule's regex, so most text is skipped at C speed.

Python's re only uses its fast substring search when a pattern starts with a literal; a leading
\\b, an alternation with \\b, or IGNORECASE make it try every position (measured 30-200 ms per
MB per rule). If every alternative of a rule begins (after ^ or \\b) with literal text, those
literals are necessary for a match: search for them, then run the full regex on each candidate
line only. Patterns we cannot prove that for get no prefilter and run as they are.
"""

from __future__ import annotations

import heapq
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


def _private_parser() -> tuple[Any, Any]:
    """re's own parser (private API, typed Any): without it every rule runs unfiltered."""
    try:
        return importlib.import_module("re._parser"), importlib.import_module("re._constants")
    except ImportError:  # pragma: no cover - depends on the interpreter
        return None, None


sre_parse, sre_constants = _private_parser()

MIN_LITERAL_CHARS = 3  # shorter literals would flag most lines and only add work
_PASSTHROUGH_FLAGS = re.IGNORECASE | re.MULTILINE


@dataclass(frozen=True)
class Prefilter:
    """One pattern per literal: re finds a single literal with a fast substring search, but an
    alternation of literals (or IGNORECASE) walks every position, about 10x slower."""

    exact: tuple[re.Pattern[str], ...]  # the literals, with the rule's own case handling
    # For IGNORECASE rules with ASCII literals: the lowercased literals, case-sensitive, to run on
    # block.lower() of an ASCII block. On ASCII text with ASCII literals both give the same hits,
    # and lower() keeps every position in place.
    folded: tuple[re.Pattern[str], ...] | None

    def candidates(self, block: str, folded_block: str | None) -> Iterator[re.Match[str]]:
        """Every literal hit, in text order (positions are the same in both blocks)."""
        if self.folded is not None and folded_block is not None:
            patterns, text = self.folded, folded_block
        else:
            patterns, text = self.exact, block
        return heapq.merge(*(pattern.finditer(text) for pattern in patterns), key=_start)


def _start(match: re.Match[str]) -> int:
    return match.start()


def prefilter_for(regex: re.Pattern[str]) -> Prefilter | None:
    if sre_parse is None:
        return None
    try:
        literals = _prefixes(list(sre_parse.parse(regex.pattern, regex.flags & ~re.UNICODE)))
    except (re.error, TypeError, ValueError, IndexError):
        return None
    if not literals or min(len(text) for text in literals) < MIN_LITERAL_CHARS:
        return None
    exact = _compiled(literals, regex.flags & _PASSTHROUGH_FLAGS)
    folded = None
    if regex.flags & re.IGNORECASE and all(text.isascii() for text in literals):
        folded = _compiled([text.lower() for text in literals], regex.flags & re.MULTILINE)
    return Prefilter(exact, folded)


def _compiled(literals: list[str], flags: int) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(re.escape(text), flags) for text in sorted(set(literals)))


def _prefixes(items: list[tuple[Any, Any]]) -> list[str] | None:
    """Literal text every match of this sequence must start with (one per alternative)."""
    index = 0
    while index < len(items) and items[index][0] is sre_constants.AT:  # ^, \b: zero-width
        index += 1
    if index == len(items):
        return None
    op, argument = items[index]
    if op is sre_constants.BRANCH:
        return _branch_prefixes(argument[1])
    if op is sre_constants.SUBPATTERN:
        _group, add_flags, del_flags, body = argument
        return None if add_flags or del_flags else _prefixes(list(body))
    chars = []
    while index < len(items) and items[index][0] is sre_constants.LITERAL:
        chars.append(chr(items[index][1]))
        index += 1
    if not chars:
        return None
    head = "".join(chars)
    # The parser factors shared prefixes ("Exception|Error" -> "E" + branch): follow the branch.
    if index < len(items) and items[index][0] in (sre_constants.BRANCH, sre_constants.SUBPATTERN):
        tails = _prefixes(items[index:])
        if tails:
            return [head + tail for tail in tails]
    return [head]


def _branch_prefixes(branches: list[Any]) -> list[str] | None:
    found: list[str] = []
    for branch in branches:
        prefixes = _prefixes(list(branch))
        if not prefixes:
            return None  # one alternative without a literal start: no safe prefilter
        found.extend(prefixes)
    return found
