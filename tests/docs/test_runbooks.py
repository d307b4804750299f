"""docs/runbooks/ has exactly one runbook per alarm any product can create and per alert kind a
handler publishes, each alarm's description ends with its runbook's link, and that link reaches
the person paged: the notification a launched tool's alarm sends on localcloud carries it.

The alarms come from the templates the products build (every product in products/tools/), the
alert kinds from the handlers' source, so a new alarm or a new alert kind fails here until it has
a runbook.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import CatalogConfig, load_config
from catalog.errors import ConfigError
from catalog.schema import DEFAULT_RUNBOOK_BASE_URL, RUNBOOK_BASE_URL_MAX_LENGTH
from products.build import render_product
from products.environment import ENVIRONMENT_PARAMETER
from products.spec import discover_products

REPO = Path(__file__).resolve().parents[2]
RUNBOOKS = REPO / "docs" / "runbooks"
HANDLERS = REPO / "handlers"
INDEX = "README.md"
SECTIONS = (
    "## What fired",
    "## The first five minutes",
    "## Likely causes",
    "## The fix",
    "## When to escalate",
)
# CloudWatch API reference (MetricAlarm, PutMetricAlarm): AlarmDescription 0 to 1024 characters.
ALARM_DESCRIPTION_LIMIT = 1024
# catalog/schema.py: environment names are at most 16 characters.
LONGEST_ENVIRONMENT = "e" * 16
ALARM_NAME_END = f"-${{{ENVIRONMENT_PARAMETER}}}-"


@functools.cache
def _config(base_url: str | None = None) -> CatalogConfig:
    config = load_config(DEFAULT_CONFIG)
    if base_url is None:
        return config
    return dataclasses.replace(config, catalog={**config.catalog, "runbook_base_url": base_url})


def _alarms(config: CatalogConfig) -> dict[tuple[str, str], dict[str, Any]]:
    """(product, alarm logical id) -> the alarm's properties, from every product's template."""
    return _rendered_alarms(config.catalog.get("runbook_base_url"))


@functools.cache
def _rendered_alarms(base_url: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    config = _config(base_url)
    alarms = {}
    for name, product in discover_products().items():
        template = json.loads(render_product(product, config, "packages/placeholder.zip"))
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::CloudWatch::Alarm":
                alarms[(name, logical_id)] = resource["Properties"]
    return alarms


def _runbook_of(alarm: dict[str, Any]) -> str:
    """The runbook an alarm needs: its name after <prefix>-<tool>[-<instance>]-<environment>-."""
    name = alarm["AlarmName"]["Fn::Sub"]
    text = name[0] if isinstance(name, list) else name
    return text.split(ALARM_NAME_END, 1)[1]


def _description(alarm: dict[str, Any]) -> str:
    text = alarm["AlarmDescription"]["Fn::Sub"]
    assert isinstance(text, str), alarm["AlarmDescription"]
    return str(text)


# ------------------------------------------------------------------ tool alerts, from the handlers


def _module(tool: str, module: str) -> ast.Module:
    return ast.parse((HANDLERS / tool / f"{module}.py").read_text())


def _string_constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }


def _auto_healer_alerts() -> set[str]:
    """Each outcome a Decision is made with, except those app.py leaves out of the report."""
    decisions = _module("auto_healer", "healer_decisions")
    constants = _string_constants(decisions)
    made = {
        constants[call.args[0].id]
        for call in ast.walk(decisions)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "Decision"
        and call.args
        and isinstance(call.args[0], ast.Name)
    }
    return made - {constants[name] for name in _excluded_from_report()}


def _excluded_from_report() -> set[str]:
    """The names in `d.outcome != NAME` comparisons of auto_healer/app.py (reportable filter)."""
    return {
        compare.comparators[0].id
        for compare in ast.walk(_module("auto_healer", "app"))
        if isinstance(compare, ast.Compare)
        and isinstance(compare.ops[0], ast.NotEq)
        and isinstance(compare.left, ast.Attribute)
        and compare.left.attr == "outcome"
        and isinstance(compare.comparators[0], ast.Name)
    }


def _health_checker_alerts() -> set[str]:
    """The first word of each line format_alert writes per transition: DOWN and RECOVERED."""
    [format_alert] = [
        node
        for node in _module("health_checker", "app").body
        if isinstance(node, ast.FunctionDef) and node.name == "format_alert"
    ]
    words = set()
    for text in ast.walk(format_alert):
        if isinstance(text, ast.JoinedStr) and isinstance(text.values[0], ast.Constant):
            first = str(text.values[0].value)
            if re.match(r"^[A-Z]+ ", first):
                words.add(first.split(maxsplit=1)[0].lower())
    return words


def _log_processor_alerts() -> set[str]:
    # One kind: the single message an invocation sends when rules cross their thresholds.
    assert "over their threshold" in (HANDLERS / "log_processor" / "log_report.py").read_text()
    return {"threshold-crossed"}


# Tools whose handler publishes its own alerts, and how to read its alert kinds.
ALERT_KINDS = {
    "auto-healer": _auto_healer_alerts,
    "health-checker": _health_checker_alerts,
    "log-processor": _log_processor_alerts,
}
# The alert handler's publish_alert call is its `sns` channel: it forwards alarms (which have
# their own runbooks), it sends no alert of its own.
FORWARDERS = {"alert_handler/alert_channels.py"}


def _tool_alerts() -> set[str]:
    return {f"{tool}-{kind}" for tool, kinds in ALERT_KINDS.items() for kind in kinds()}


def _publishers() -> set[str]:
    return {
        path.relative_to(HANDLERS).as_posix()
        for path in HANDLERS.glob("*/*.py")
        if path.parent.name != "shared" and re.search(r"\bpublish_alert\(", path.read_text())
    }


def _runbook_files() -> set[str]:
    return {path.stem for path in RUNBOOKS.glob("*.md") if path.name != INDEX}


# ------------------------------------------------------------------ the set of runbooks


def test_every_alarm_any_product_creates_has_a_runbook() -> None:
    needed = {_runbook_of(alarm) for alarm in _alarms(_config()).values()}
    # The standard five, the scheduled tools' missed runs, the log processor's own alarm.
    assert {"errors", "dead-letters", "did-not-run", "scans-cut-short"} <= needed
    missing = sorted(needed - _runbook_files())
    assert not missing, f"alarms without a runbook in {RUNBOOKS}: {missing}"


def test_every_handler_that_publishes_alerts_has_its_alert_kinds_declared() -> None:
    declared = {tool.replace("-", "_") for tool in ALERT_KINDS}
    undeclared = {path for path in _publishers() - FORWARDERS if path.split("/")[0] not in declared}
    assert not undeclared, f"handlers publishing alerts not listed in ALERT_KINDS: {undeclared}"


def test_the_alert_kinds_are_what_the_handlers_send() -> None:
    assert _auto_healer_alerts() == {"acted", "dry-run", "skipped", "failed"}
    assert _health_checker_alerts() == {"down", "recovered"}


def test_every_tool_alert_has_a_runbook() -> None:
    missing = sorted(_tool_alerts() - _runbook_files())
    assert not missing, f"tool alerts without a runbook in {RUNBOOKS}: {missing}"


def test_every_runbook_has_an_alarm_or_an_alert() -> None:
    alarms = {_runbook_of(alarm) for alarm in _alarms(_config()).values()}
    orphans = sorted(_runbook_files() - alarms - _tool_alerts())
    assert not orphans, f"runbooks for no alarm and no alert: {orphans}"


@pytest.mark.parametrize("name", sorted(_runbook_files()))
def test_each_runbook_says_who_it_is_for_and_has_every_section(name: str) -> None:
    text = (RUNBOOKS / f"{name}.md").read_text()
    assert text.splitlines()[0].startswith("For on-call engineers: ")
    positions = [text.find(section) for section in SECTIONS]
    assert -1 not in positions, f"{name}.md lacks {SECTIONS[positions.index(-1)]!r}"
    assert positions == sorted(positions), f"{name}.md: sections out of order"
    assert "```" in text.split("## The first five minutes")[1], "no commands in the first minutes"


def test_the_index_lists_every_runbook() -> None:
    index = (RUNBOOKS / INDEX).read_text()
    assert index.startswith("For on-call engineers")
    linked = set(re.findall(r"\]\(([a-z-]+)\.md\)", index))
    assert linked == _runbook_files()


def test_the_dead_letter_runbook_invokes_the_function_again_with_the_original_event() -> None:
    text = (RUNBOOKS / "dead-letters.md").read_text()
    for step in ("receive-message", ".requestPayload", "aws lambda invoke", "delete-message"):
        assert step in text
    assert "python build.py redrive TOOL --env ENV" in text


# ------------------------------------------------------------------ the link in each description


def test_each_alarm_description_ends_with_its_runbook_link_from_the_config() -> None:
    base = "https://docs.example.net/oncall/runbooks"
    alarms = _alarms(_config(base + "/"))
    for (product, logical_id), alarm in alarms.items():
        link = f" Runbook: {base}/{_runbook_of(alarm)}.md"
        assert _description(alarm).endswith(link), (product, logical_id)


def test_the_default_link_is_the_placeholder_base_url() -> None:
    for alarm in _alarms(_config()).values():
        assert f"Runbook: {DEFAULT_RUNBOOK_BASE_URL}/" in _description(alarm)


def test_the_longest_description_fits_cloudwatch_with_the_longest_base_url() -> None:
    base = "https://" + "u" * (RUNBOOK_BASE_URL_MAX_LENGTH - len("https://"))
    longest = max(
        len(_description(alarm).replace("${Environment}", LONGEST_ENVIRONMENT))
        for alarm in _alarms(_config(base)).values()
    )
    assert longest <= ALARM_DESCRIPTION_LIMIT


def _write_config(tmp_path: Path, base_url: str) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["catalog"]["runbook_base_url"] = base_url
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    "base_url",
    [
        "http://example.com/runbooks",
        "https://example.com/${Environment}/runbooks",
        "https://example.com/run books",
        "https://" + "u" * RUNBOOK_BASE_URL_MAX_LENGTH,
    ],
)
def test_a_base_url_that_is_not_a_usable_https_url_is_refused(
    tmp_path: Path, base_url: str
) -> None:
    with pytest.raises(ConfigError, match=r"catalog\.runbook_base_url"):
        load_config(_write_config(tmp_path, base_url))


def test_a_valid_base_url_is_used_without_its_final_slash(tmp_path: Path) -> None:
    config = load_config(_write_config(tmp_path, "https://git.example.org/a/b/-/docs/runbooks/"))
    assert config.runbook_base_url == "https://git.example.org/a/b/-/docs/runbooks"


# ------------------------------------------------------------------ links to the runbooks


def test_the_readme_and_the_operating_guide_link_the_runbooks() -> None:
    assert "(docs/runbooks/README.md)" in (REPO / "README.md").read_text()
    assert "(runbooks/README.md)" in (REPO / "docs" / "operating.md").read_text()
