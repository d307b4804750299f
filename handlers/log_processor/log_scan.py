"""Count rule matches per line over big blocks of text without a Python loop per line.

Where the Hyperscan wheel loads, one pass over an ASCII block finds candidate lines for every rule
it can take (log_multimatch); re confirms each. The other rules (and non-ASCII blocks) go the way
below. Each rule runs finditer over the whole block (the regex engine's C loop skips non-matching
text): its literal prefilter when it has one, then the full regex on each candidate line only.
Python touches only lines that (may) match. A line counts once per rule however many times the
rule matches in it; a rule matches within one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from log_multimatch import MultiMatcher, multi_matcher
from log_rules import Rule

MAX_SAMPLE_CHARS = 500  # per sample line; the whole alert must fit SNS's 256 KB


@dataclass
class RuleTally:
    count: int = 0
    samples: list[str] = field(default_factory=list)


@dataclass
class SourceTally:
    """Counts for one log source (a log group + stream, or one S3 object)."""

    group: str
    stream: str
    console_url: str
    lines: int = 0
    rules: dict[str, RuleTally] = field(default_factory=dict)
    # The scan stopped before the end of the source because the function's time ran out.
    cut_short: bool = False

    def count(self, rule_name: str) -> int:
        tally = self.rules.get(rule_name)
        return tally.count if tally else 0


class RuleEngine:
    def __init__(
        self, rules: Iterable[Rule], sample_lines: int, *, multimatch: bool = True
    ) -> None:
        """multimatch=False keeps every rule on re (the reference the tests compare with)."""
        self.rules = list(rules)
        self.sample_lines = sample_lines
        self._needs_folded = any(r.prefilter and r.prefilter.folded for r in self.rules)
        self.multi: MultiMatcher | None = multi_matcher(self.rules) if multimatch else None
        taken = {id(rule) for rule in self.multi.rules} if self.multi else set()
        self._re_rules = [rule for rule in self.rules if id(rule) not in taken]

    def scan(self, block: str, tally: SourceTally) -> None:
        """Count matches in ``block``: newline-separated lines, none containing a partial line."""
        if not block:
            return
        tally.lines += block.count("\n") + (0 if block.endswith("\n") else 1)
        rules = self.rules
        if self.multi is not None and block.isascii():
            self.multi.scan(block, self._counter(tally))
            rules = self._re_rules
        folded = block.lower() if self._needs_folded and block.isascii() else None
        for rule in rules:
            self._scan_rule(rule, block, folded, tally)

    def _counter(self, tally: SourceTally) -> Callable[[Rule, str], None]:
        def count(rule: Rule, line: str) -> None:
            self._count(tally, rule, line)

        return count

    def _count(self, tally: SourceTally, rule: Rule, line: str) -> None:
        rule_tally = tally.rules.get(rule.name)
        if rule_tally is None:
            rule_tally = tally.rules[rule.name] = RuleTally()
        rule_tally.count += 1
        if len(rule_tally.samples) < self.sample_lines:
            rule_tally.samples.append(clip_line(line))

    def _finder(self, rule: Rule, block: str, folded: str | None) -> Iterator[re.Match[str]]:
        if rule.prefilter is None:
            return rule.regex.finditer(block)
        return rule.prefilter.candidates(block, folded)

    def _scan_rule(self, rule: Rule, block: str, folded: str | None, tally: SourceTally) -> None:
        rule_tally: RuleTally | None = None
        line_end = -1
        for match in self._finder(rule, block, folded):
            start = match.start()
            if start <= line_end:
                continue  # another hit on a line already handled
            line_start = block.rfind("\n", 0, start) + 1
            line_end = block.find("\n", start)
            if line_end == -1:
                line_end = len(block)
            line = block[line_start:line_end]
            if rule.prefilter is not None and not rule.regex.search(line):
                continue  # the literal is there, the whole pattern is not
            if rule_tally is None:
                rule_tally = tally.rules.setdefault(rule.name, RuleTally())
            rule_tally.count += 1
            if len(rule_tally.samples) < self.sample_lines:
                rule_tally.samples.append(clip_line(line))


def clip_line(line: str) -> str:
    line = line.rstrip("\r")
    return line if len(line) <= MAX_SAMPLE_CHARS else line[: MAX_SAMPLE_CHARS - 3] + "..."
