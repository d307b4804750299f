"""Count rule matches per line over big blocks of text without a Python loop per line.

Each rule runs finditer over the whole block (the regex engine's C loop skips non-matching
text); Python only touches lines that match. A line counts once per rule however many times
the rule matches in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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

    def count(self, rule_name: str) -> int:
        tally = self.rules.get(rule_name)
        return tally.count if tally else 0


class RuleEngine:
    def __init__(self, rules: Iterable[Rule], sample_lines: int) -> None:
        self.rules = list(rules)
        self.sample_lines = sample_lines

    def scan(self, block: str, tally: SourceTally) -> None:
        """Count matches in ``block``: newline-separated lines, none containing a partial line."""
        if not block:
            return
        tally.lines += block.count("\n") + (0 if block.endswith("\n") else 1)
        for rule in self.rules:
            self._scan_rule(rule, block, tally)

    def _scan_rule(self, rule: Rule, block: str, tally: SourceTally) -> None:
        rule_tally: RuleTally | None = None
        line_end = -1
        for match in rule.regex.finditer(block):
            start = match.start()
            if start <= line_end:
                continue  # another match on a line already counted
            line_start = block.rfind("\n", 0, start) + 1
            line_end = block.find("\n", start)
            if line_end == -1:
                line_end = len(block)
            if rule_tally is None:
                rule_tally = tally.rules.setdefault(rule.name, RuleTally())
            rule_tally.count += 1
            if len(rule_tally.samples) < self.sample_lines:
                rule_tally.samples.append(clip_line(block[line_start:line_end]))


def clip_line(line: str) -> str:
    line = line.rstrip("\r")
    return line if len(line) <= MAX_SAMPLE_CHARS else line[: MAX_SAMPLE_CHARS - 3] + "..."
