"""Summarise one invocation's matches as one SNS alert (subject < 100 chars, body < 256 KB)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from log_rules import SEVERITY_RANK, Rule
from log_scan import SourceTally


@dataclass(frozen=True)
class Crossed:
    rule: Rule
    count: int


def totals(sources: list[SourceTally], rules: list[Rule]) -> dict[str, int]:
    return {rule.name: sum(source.count(rule.name) for source in sources) for rule in rules}


def crossed_rules(counts: dict[str, int], rules: list[Rule]) -> list[Crossed]:
    crossed = [
        Crossed(rule, counts[rule.name]) for rule in rules if counts[rule.name] >= rule.threshold
    ]
    return sorted(crossed, key=lambda item: (-SEVERITY_RANK[item.rule.severity], -item.count))


def logs_console_url(region: str, group: str, stream: str) -> str:
    """The console's logsV2 fragment wants the name URL-encoded twice with '%' written as '$'."""

    def console_quote(name: str) -> str:
        return quote(quote(name, safe=""), safe="").replace("%", "$")

    base = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
    group_part, stream_part = console_quote(group), console_quote(stream)
    return f"{base}#logsV2:log-groups/log-group/{group_part}/log-events/{stream_part}"


def s3_console_url(region: str, bucket: str, key: str) -> str:
    prefix = quote(key, safe="")
    return f"https://s3.console.aws.amazon.com/s3/object/{bucket}?region={region}&prefix={prefix}"


def alert_subject(environment: str, crossed: list[Crossed], sources: list[SourceTally]) -> str:
    names = ", ".join(item.rule.name for item in crossed)
    where = sources[0].group if len(sources) == 1 else f"{len(sources)} sources"
    return f"[{crossed[0].rule.severity.upper()}] {environment}: {names} in {where}"


def alert_message(
    environment: str, crossed: list[Crossed], sources: list[SourceTally], rules: list[Rule]
) -> str:
    lines = [
        f"Log alert in environment {environment}.",
        "",
        "Rules over their threshold this invocation:",
    ]
    lines += [
        f"  {c.rule.name} ({c.rule.severity}): {c.count} lines, threshold {c.rule.threshold}"
        for c in crossed
    ]
    for source in sources:
        lines += ["", *_source_section(source, rules)]
    return "\n".join(lines)


def _source_section(source: SourceTally, rules: list[Rule]) -> list[str]:
    lines = [
        f"Source: {source.group}",
        f"  Stream/object: {source.stream}",
        f"  Lines scanned: {source.lines}",
        f"  Console: {source.console_url}",
    ]
    if source.cut_short:
        lines.append(
            "  Scan cut short: the function's time ran out before the end of this object;"
            " raise the function's timeout or write smaller objects."
        )
    for rule in rules:
        tally = source.rules.get(rule.name)
        if tally is None:
            continue
        lines.append(f"  {rule.name}: {tally.count} matching lines; samples:")
        lines += [f"    | {sample}" for sample in tally.samples]
    return lines
