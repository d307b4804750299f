"""Every rule in one pass over a block: Hyperscan finds candidate lines, Python's re confirms them.

Hyperscan (the `hyperscan` wheel, compiled per CPU and Python version) scans the block once for
all rules at once, at close to memory speed, and calls back with the end offset of each match.
It only ever proposes lines: a line counts for a rule only if ``rule.regex.search(line)`` says
so, as in the literal prefilter's path. So Hyperscan must never miss a line Python would match,
and may propose extra ones. That is what the translation below guarantees, on ASCII text only
(a non-ASCII block goes through the Python engine, whose Unicode classes and case folding
Hyperscan's byte mode does not share):

- the pattern is rebuilt from re's own parse tree, never passed as written: Python and PCRE read
  some text differently (``x{,3}``, ``[[:alpha:]]``, ``\\Z``); classes become explicit ASCII sets
  (Python's ``\\s`` also matches \\x1c-\\x1f); lookarounds are dropped (matching more is allowed);
- a rule that could match across a newline, or uses \\A or \\Z, keeps re's block scan unless it has
  a literal prefilter: today's engine counts those by where a block match starts, and a per-line
  check would change its counts;
- a rule Hyperscan cannot compile (back-references, empty matches, non-ASCII text, huge
  repeats) stays with re. Without the wheel (another CPU or Python) every rule stays with re.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from log_prefilter import sre_constants, sre_parse
from log_rules import Rule

LineHit = Callable[[Rule, str], None]  # a rule and a line it matches

ASCII_MAX = 0x7F
NEWLINE = 0x0A
_NO_NEWLINE_CATEGORIES = frozenset({"CATEGORY_DIGIT", "CATEGORY_WORD", "CATEGORY_NOT_SPACE"})
_SPACE_UNICODE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f\\x20"  # str.isspace() within ASCII
_SPACE_ASCII = "\\t\\n\\x0b\\x0c\\r\\x20"  # re.ASCII's \s
_WORD = "A-Za-z0-9_"
_DIGIT = "0-9"
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class Untranslatable(Exception):
    """The rule stays with Python's re (the reason is the message)."""


def load_hyperscan() -> Any:
    """The hyperscan module, or None where its wheel is missing or built for another platform."""
    try:
        return importlib.import_module("hyperscan")
    except (ImportError, OSError):  # OSError: a shared library for another CPU
        return None


class MultiMatcher:
    """A compiled Hyperscan database over the rules it could take, by position in ``rules``."""

    def __init__(self, hyperscan: Any, rules: list[Rule], patterns: dict[int, bytes]) -> None:
        self.rules = [rules[index] for index in sorted(patterns)]
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=[patterns[index] for index in sorted(patterns)],
            ids=list(range(len(self.rules))),
            elements=len(self.rules),
            flags=[_flags(hyperscan, rules[index]) for index in sorted(patterns)],
        )

    def scan(self, block: str, on_line: LineHit) -> None:
        """Call on_line once per (rule, line) the rule's regex matches, in text order per rule."""
        done = [-1] * len(self.rules)  # per rule: end of the last line checked
        rules = self.rules

        def on_match(rule_id: int, _start: int, end: int, _flags: int, _context: Any) -> None:
            if end <= done[rule_id]:
                return  # another match on a line already checked: the check was for the line
            line_start = block.rfind("\n", 0, end) + 1
            line_end = block.find("\n", line_start)
            line_end = len(block) if line_end == -1 else line_end
            done[rule_id] = line_end
            line = block[line_start:line_end]
            if rules[rule_id].regex.search(line) is not None:
                on_line(rules[rule_id], line)

        # ASCII (the caller checked block.isascii()): byte offsets are str offsets.
        self._database.scan(block.encode("ascii"), match_event_handler=on_match)


def multi_matcher(rules: list[Rule]) -> MultiMatcher | None:
    """A matcher for the rules Hyperscan can take, or None (no wheel, or no such rule)."""
    hyperscan = load_hyperscan()
    if hyperscan is None or sre_parse is None:
        return None
    patterns = {}
    for index, rule in enumerate(rules):
        pattern = _compilable(hyperscan, rule)
        if pattern is not None:
            patterns[index] = pattern
    return MultiMatcher(hyperscan, rules, patterns) if patterns else None


def _compilable(hyperscan: Any, rule: Rule) -> bytes | None:
    try:
        pattern = hyperscan_pattern(rule)
        hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK).compile(
            expressions=[pattern], ids=[0], elements=1, flags=[_flags(hyperscan, rule)]
        )
    except (Untranslatable, hyperscan.error):
        return None
    return pattern


def _flags(hyperscan: Any, rule: Rule) -> int:
    flags: int = hyperscan.HS_FLAG_MULTILINE
    if rule.regex.flags & re.IGNORECASE:
        flags |= hyperscan.HS_FLAG_CASELESS
    if rule.regex.flags & re.DOTALL:
        flags |= hyperscan.HS_FLAG_DOTALL
    return flags


def hyperscan_pattern(rule: Rule) -> bytes:
    """The rule as a Hyperscan expression matching at least every line re matches."""
    parsed = sre_parse.parse(rule.regex.pattern, rule.regex.flags)
    flags = parsed.state.flags
    if parsed.getwidth()[0] == 0:  # re counts empty matches at every position; Hyperscan not
        raise Untranslatable("can match empty text")
    if rule.prefilter is None and _may_cross_lines(list(parsed), flags):
        raise Untranslatable("may match across lines, and counts by block match")
    translator = _Translator(ascii_classes=bool(flags & re.ASCII))
    return translator.sequence(list(parsed), caseless=bool(flags & re.IGNORECASE)).encode("ascii")


def _may_cross_lines(items: list[tuple[Any, Any]], flags: int) -> bool:
    """Conservatively: can a match include a newline, or does it use \\A / \\Z?"""
    for op, argument in items:
        if _node_may_cross(str(op), argument, flags):
            return True
        added = flags | _added(op, argument)
        if any(_may_cross_lines(list(sub), added) for sub in _subs(op, argument)):
            return True
    return False


def _node_may_cross(name: str, argument: Any, flags: int) -> bool:
    if name == "LITERAL":
        return bool(argument == NEWLINE)
    if name == "NOT_LITERAL":
        return bool(argument != NEWLINE)
    if name == "ANY":
        return bool(flags & re.DOTALL)
    if name == "IN":
        return _class_may_hold_newline(argument)
    if name == "AT":
        return str(argument) in {"AT_BEGINNING_STRING", "AT_END_STRING"}
    return False


def _class_may_hold_newline(items: list[tuple[Any, Any]]) -> bool:
    for op, argument in items:
        name = str(op)
        if name in {"NEGATE", "CATEGORY"} and str(argument) not in _NO_NEWLINE_CATEGORIES:
            return True
        if name == "LITERAL" and argument == NEWLINE:
            return True
        if name == "RANGE" and argument[0] <= NEWLINE <= argument[1]:
            return True
    return False


def _added(op: Any, argument: Any) -> int:
    return int(argument[1]) if str(op) == "SUBPATTERN" else 0


_SUB_SEQUENCES: dict[str, Callable[[Any], list[Any]]] = {
    "BRANCH": lambda argument: list(argument[1]),
    "SUBPATTERN": lambda argument: [argument[3]],
    "MAX_REPEAT": lambda argument: [argument[2]],
    "MIN_REPEAT": lambda argument: [argument[2]],
    "POSSESSIVE_REPEAT": lambda argument: [argument[2]],
    "ASSERT": lambda argument: [argument[1]],
    "ASSERT_NOT": lambda argument: [argument[1]],
    "ATOMIC_GROUP": lambda argument: [argument],
    "GROUPREF_EXISTS": lambda argument: [part for part in argument[1:] if part is not None],
}


def _subs(op: Any, argument: Any) -> list[Any]:
    """The sub-sequences of one parse node."""
    getter = _SUB_SEQUENCES.get(str(op))
    return getter(argument) if getter else []


class _Translator:
    def __init__(self, *, ascii_classes: bool) -> None:
        self.space = _SPACE_ASCII if ascii_classes else _SPACE_UNICODE

    def sequence(self, items: list[tuple[Any, Any]], *, caseless: bool) -> str:
        return "".join(self.node(op, argument, caseless=caseless) for op, argument in items)

    def node(self, op: Any, argument: Any, *, caseless: bool) -> str:  # noqa: PLR0911
        name = str(op)
        if name == "LITERAL":
            return _char(argument)
        if name == "NOT_LITERAL":
            return f"[^{_char(argument)}]" if argument <= ASCII_MAX else _any_ascii(caseless)
        if name == "ANY":
            return "."
        if name == "IN":
            return self.char_class(argument, caseless=caseless)
        if name == "AT":
            return _anchor(str(argument))
        if name == "BRANCH":
            branches = (self.sequence(list(b), caseless=caseless) for b in argument[1])
            return "(?:" + "|".join(branches) + ")"
        if name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            return self.repeat(argument, caseless=caseless)
        if name == "SUBPATTERN":
            return self.group(argument, caseless=caseless)
        if name == "ATOMIC_GROUP":  # no backtracking limit: matches more, which is allowed
            return "(?:" + self.sequence(list(argument), caseless=caseless) + ")"
        if name in {"ASSERT", "ASSERT_NOT"}:
            return ""  # a dropped lookaround only lets more lines through to re's check
        raise Untranslatable(f"{name} has no Hyperscan equivalent")

    def repeat(self, argument: Any, *, caseless: bool) -> str:
        low, high, body = argument
        inner = "(?:" + self.sequence(list(body), caseless=caseless) + ")"
        upper = "" if high == sre_constants.MAXREPEAT else str(high)
        return f"{inner}{{{low},{upper}}}"

    def group(self, argument: Any, *, caseless: bool) -> str:
        _index, add_flags, del_flags, body = argument
        if (add_flags | del_flags) & ~(re.IGNORECASE | re.DOTALL):
            raise Untranslatable("inline flags other than i and s")
        if add_flags & re.IGNORECASE:
            caseless = True
        if del_flags & re.IGNORECASE:
            caseless = False
        on = "".join(f for f, bit in (("i", re.IGNORECASE), ("s", re.DOTALL)) if add_flags & bit)
        off = "".join(f for f, bit in (("i", re.IGNORECASE), ("s", re.DOTALL)) if del_flags & bit)
        modifiers = on + (f"-{off}" if off else "")
        return f"(?{modifiers}:" + self.sequence(list(body), caseless=caseless) + ")"

    def char_class(self, items: list[tuple[Any, Any]], *, caseless: bool) -> str:
        negated = bool(items) and str(items[0][0]) == "NEGATE"
        members = items[1:] if negated else items
        if len(members) == 1 and str(members[0][0]) == "CATEGORY":
            complement = self.negative_category(str(members[0][1]))
            if complement is not None:  # [\S], \W, \D: their own complement, or its negation
                return f"[{complement}]" if negated else f"[^{complement}]"
        parts = [self.member(op, argument, caseless=caseless) for op, argument in members]
        text = "".join(parts)
        if not text:
            if not negated:
                raise Untranslatable("a class with no ASCII member never matches ASCII text")
            return _any_ascii(caseless)
        return f"[^{text}]" if negated else f"[{text}]"

    def member(self, op: Any, argument: Any, *, caseless: bool) -> str:
        name = str(op)
        if name == "LITERAL":
            if argument > ASCII_MAX:
                _refuse_nonascii_caseless(caseless)
                return ""
            return _char(argument)
        if name == "RANGE":
            low, high = argument
            if high > ASCII_MAX:
                _refuse_nonascii_caseless(caseless)
            return "" if low > ASCII_MAX else f"{_char(low)}-{_char(min(high, ASCII_MAX))}"
        if name == "CATEGORY":
            positive = self.positive_category(str(argument))
            if positive is None:
                raise Untranslatable(f"{argument} inside a larger class")
            return positive
        raise Untranslatable(f"{name} inside a class")

    def positive_category(self, code: str) -> str | None:
        return {"CATEGORY_DIGIT": _DIGIT, "CATEGORY_WORD": _WORD, "CATEGORY_SPACE": self.space}.get(
            code
        )

    def negative_category(self, code: str) -> str | None:
        """The set a negative category (\\D \\W \\S) excludes."""
        excluded = {"CATEGORY_NOT_DIGIT": _DIGIT, "CATEGORY_NOT_WORD": _WORD}
        excluded["CATEGORY_NOT_SPACE"] = self.space
        return excluded.get(code)


def _char(code: int) -> str:
    if code > ASCII_MAX:
        raise Untranslatable(f"non-ASCII character U+{code:04X}")
    character = chr(code)
    return character if character in _SAFE_CHARS else f"\\x{code:02x}"


def _any_ascii(caseless: bool) -> str:
    del caseless  # every ASCII character, whatever the case handling
    return "[\\x00-\\x7f]"


def _refuse_nonascii_caseless(caseless: bool) -> None:
    # Python folds some non-ASCII letters onto ASCII ones (U+212A KELVIN SIGN ~ k, U+017F ~ s).
    if caseless:
        raise Untranslatable("a non-ASCII character under IGNORECASE")


def _anchor(code: str) -> str:
    # \A and \Z mean the start and end of the line re checks (only prefiltered rules get here).
    anchors = {
        "AT_BEGINNING": "^",
        "AT_BEGINNING_STRING": "^",
        "AT_END": "$",
        "AT_END_STRING": "$",
        "AT_BOUNDARY": "\\b",
        "AT_NON_BOUNDARY": "\\B",
    }
    if code not in anchors:
        raise Untranslatable(f"anchor {code}")
    return anchors[code]
