"""log_scan.RuleEngine: counts lines (not matches), keeps samples, handles block edges."""

from __future__ import annotations

from log_rules import compile_rule
from log_scan import MAX_SAMPLE_CHARS, RuleEngine, SourceTally


def _engine(*patterns: str, samples: int = 5) -> RuleEngine:
    rules = [compile_rule({"name": f"r{i}", "pattern": p}, "test") for i, p in enumerate(patterns)]
    return RuleEngine(rules, samples)


def _tally() -> SourceTally:
    return SourceTally("group", "stream", "url")


def test_a_line_counts_once_per_rule_even_with_many_matches():
    tally = _tally()
    _engine("ERROR").scan("ERROR ERROR ERROR\nok\nERROR\n", tally)
    assert tally.count("r0") == 2
    assert tally.rules["r0"].samples == ["ERROR ERROR ERROR", "ERROR"]
    assert tally.lines == 3


def test_each_rule_counts_independently_and_lines_without_trailing_newline():
    tally = _tally()
    _engine("a", "b").scan("ab\na\nc\nb", tally)
    assert (tally.count("r0"), tally.count("r1"), tally.lines) == (2, 2, 4)


def test_anchors_mean_line_start_and_end():
    tally = _tally()
    _engine("^WARN", "done$").scan("WARN x\nx WARN\nall done\ndone later\n", tally)
    assert tally.rules["r0"].samples == ["WARN x"]
    assert tally.rules["r1"].samples == ["all done"]


def test_samples_are_capped_and_clipped():
    tally = _tally()
    long_line = "ERROR " + "y" * 2000
    _engine("ERROR", samples=2).scan("\n".join([long_line] * 5), tally)
    assert tally.count("r0") == 5
    assert len(tally.rules["r0"].samples) == 2
    assert len(tally.rules["r0"].samples[0]) == MAX_SAMPLE_CHARS and tally.rules["r0"].samples[
        0
    ].endswith("...")


def test_first_and_last_lines_and_crlf():
    tally = _tally()
    _engine("X").scan("X first\r\nmiddle\r\nlast X", tally)
    assert tally.rules["r0"].samples == ["X first", "last X"]


def test_accumulates_over_blocks_and_ignores_empty():
    tally = _tally()
    engine = _engine("E")
    engine.scan("E\nE\n", tally)
    engine.scan("", tally)
    engine.scan("x\nE", tally)
    assert (tally.count("r0"), tally.lines) == (3, 4)
