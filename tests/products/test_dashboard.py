"""Every product's dashboard against what it must show: each alarm with its threshold, and each
metric the tool's handler emits (read from the handler's source, not from the declarations)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from catalog.config import CatalogConfig
from products.dashboard import (
    concrete_body,
    dashboard_name,
    dashboard_widgets,
    launch_values,
    resolve,
)
from products.environment import instance_segment
from products.spec import Product, discover_products
from products.widgets import METRICS_NAMESPACE, Widget

ROOT = Path(__file__).resolve().parents[2]
SHARED_HANDLER_CODE = ROOT / "handlers" / "shared" / "oncall_shared"
PRODUCTS = discover_products()
METRIC_CALLS = {"add_metric", "single_metric"}


# -- the metrics a handler emits, read from its source ---------------------------------------


def emitted_metrics(handler: str) -> dict[str, str]:
    """Metric name -> where it is emitted, for handlers/<handler> and the shared package."""
    files = sorted((ROOT / "handlers" / handler).glob("*.py"))
    files += sorted(SHARED_HANDLER_CODE.glob("*.py"))
    found: dict[str, str] = {}
    for path in files:
        for name, line in _metric_names(ast.parse(path.read_text()), path):
            found.setdefault(name, f"{path.relative_to(ROOT)}:{line}")
    return found


def _metric_names(module: ast.Module, path: Path) -> list[tuple[str, int]]:
    constants = _module_constants(module)
    names: list[tuple[str, int]] = []
    for function in [n for n in ast.walk(module) if isinstance(n, ast.FunctionDef)]:
        for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
            if _called(call) in METRIC_CALLS:
                expression = _name_argument(call)
                values = _values(expression, function, module, constants)
                if values is None:
                    pytest.fail(f"{path}:{call.lineno}: cannot tell which metric name is emitted")
                names += [(value, call.lineno) for value in values]
    return names


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _name_argument(call: ast.Call) -> ast.expr:
    for keyword in call.keywords:
        if keyword.arg == "name":
            return keyword.value
    return call.args[0]


def _module_constants(module: ast.Module) -> dict[str, Any]:
    constants: dict[str, Any] = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return constants


def _values(
    expression: ast.expr, function: ast.FunctionDef, module: ast.Module, constants: dict[str, Any]
) -> list[str] | None:
    """The names EXPRESSION can hold: a constant, a module constant, any value of a module dict
    it indexes, or a parameter of FUNCTION given as a constant by every caller in the module."""
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return [expression.value]
    if isinstance(expression, ast.Name) and isinstance(constants.get(expression.id), str):
        return [constants[expression.id]]
    if isinstance(expression, ast.Subscript) and isinstance(expression.value, ast.Name):
        table = constants.get(expression.value.id)
        return sorted(table.values()) if isinstance(table, dict) else None
    if isinstance(expression, ast.Name):
        return _parameter_values(expression.id, function, module)
    return None


def _parameter_values(
    parameter: str, function: ast.FunctionDef, module: ast.Module
) -> list[str] | None:
    position = [a.arg for a in function.args.args].index(parameter)
    calls = [n for n in ast.walk(module) if isinstance(n, ast.Call) and _called(n) == function.name]
    values: list[str] = []
    for call in calls:
        argument = call.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            values.append(argument.value)
        elif isinstance(argument, ast.Name):
            values += _assigned_strings(argument.id, module)
        else:
            return None
    return values or None


def _assigned_strings(variable: str, module: ast.Module) -> list[str]:
    """Every string constant assigned to VARIABLE, also through a conditional expression."""
    strings: list[str] = []
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == variable for t in node.targets
        ):
            strings += [
                c.value
                for c in ast.walk(node.value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            ]
    return strings


# -- what the dashboard shows ----------------------------------------------------------------


def charted_metrics(widgets: list[Widget]) -> set[str]:
    return {
        metric.name
        for widget in widgets
        if widget.kind == "metric"
        for metric in widget.metrics
        if metric.namespace == METRICS_NAMESPACE
    }


def missing_metrics(handler: str, widgets: list[Widget]) -> list[str]:
    charted = charted_metrics(widgets)
    return [f"{n} ({where})" for n, where in emitted_metrics(handler).items() if n not in charted]


def missing_alarms(template: dict[str, Any], widgets: list[Widget]) -> list[str]:
    """Alarms of TEMPLATE without an alarm widget of the same threshold."""
    shown = {w.alarm_logical_id: w for w in widgets if w.kind == "alarm"}
    missing = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        widget = shown.get(logical_id)
        threshold = _launch_text(resource["Properties"]["Threshold"])
        if widget is None or threshold not in [t.value for t in widget.thresholds]:
            missing.append(f"{logical_id} (threshold {threshold})")
    return missing


def _launch_text(value: Any) -> str:
    if isinstance(value, dict) and "Fn::FindInMap" in value:
        return f"${{{value['Fn::FindInMap'][2]}}}"
    return str(value)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_every_alarm_is_on_the_dashboard_with_its_threshold(
    name: str, config: CatalogConfig, templates: dict[str, dict[str, Any]]
) -> None:
    widgets = dashboard_widgets(PRODUCTS[name], config)
    assert not missing_alarms(templates[name], widgets)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_every_metric_the_handler_emits_is_charted(name: str, config: CatalogConfig) -> None:
    product = PRODUCTS[name]
    assert emitted_metrics(product.handler), f"no metrics found in handlers/{product.handler}"
    assert not missing_metrics(product.handler, dashboard_widgets(product, config))


def test_a_missing_alarm_or_metric_is_reported(
    config: CatalogConfig, templates: dict[str, dict[str, Any]]
) -> None:
    product = PRODUCTS["log-processor"]
    widgets = dashboard_widgets(product, config)
    without = [w for w in widgets if w.alarm_logical_id != "ScansCutShortAlarm"]
    assert missing_alarms(templates["log-processor"], without) == [
        "ScansCutShortAlarm (threshold 1)"
    ]
    uncharted = [w for w in widgets if "RuleMatches" not in {m.name for m in w.metrics}]
    assert [m.split(" ")[0] for m in missing_metrics(product.handler, uncharted)] == ["RuleMatches"]


def test_metric_names_are_read_through_constants_tables_and_helpers() -> None:
    # RunsFailed is a module constant, ActionsTaken a value of a table, AlertsDelivered the
    # argument of a helper: the source reader follows all three.
    assert {"RunsFailed", "MalformedEvents"} <= set(emitted_metrics("log_processor"))
    assert "ActionsTaken" in emitted_metrics("auto_healer")
    assert {"AlertsDelivered", "AlertsDeduplicated"} <= set(emitted_metrics("alert_handler"))


# -- the template's dashboard ----------------------------------------------------------------


def _substituted_body(template: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    text, variables = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    mapping = template["Mappings"]["EnvironmentSettings"][values["Environment"]]
    for key, expression in variables.items():
        if key == "Instance":  # names: launch_values gives it (products/environment.py)
            assert expression == instance_segment().to_dict()
            continue
        assert expression["Fn::FindInMap"][2] == key
        values = {**values, key: str(mapping[key])}
    return json.loads(re.sub(r"\$\{([A-Za-z0-9:]+)\}", lambda m: values[m.group(1)], text))


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_template_dashboard_is_the_declared_one_with_concrete_names(
    name: str, config: CatalogConfig, templates: dict[str, dict[str, Any]]
) -> None:
    product: Product = PRODUCTS[name]
    values = launch_values(product, config, "prod", "eu-west-1", "123456789012")
    body = _substituted_body(templates[name], values)
    widgets = dashboard_widgets(product, config)
    assert body == concrete_body(widgets, values)
    text = json.dumps(body)
    assert "${" not in text
    assert f'"oncall-{name}-prod"' in text  # the function, by name
    for widget in resolve(widgets, values):
        if widget.kind == "alarm":
            assert widget.alarm_arn.startswith("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:")
            assert widget.alarm_arn in text
    name_property = templates[name]["Resources"]["Dashboard"]["Properties"]["DashboardName"]
    assert name_property["Fn::Sub"][0] == f"oncall-{name}${{Instance}}-${{Environment}}-dashboard"
    assert dashboard_name(product, config, "prod") == f"oncall-{name}-prod-dashboard"


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_dashboard_body_has_the_structure_cloudwatch_expects(
    name: str, config: CatalogConfig, templates: dict[str, dict[str, Any]]
) -> None:
    values = launch_values(PRODUCTS[name], config, "dev", "us-east-1", "123456789012")
    body = _substituted_body(templates[name], values)
    cells: set[tuple[int, int]] = set()
    for widget in body["widgets"]:
        assert widget["type"] in {"metric", "alarm"}
        assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24
        covered = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not covered & cells, f"widget {widget['properties']['title']} overlaps another"
        cells |= covered
        _check_properties(widget["type"], widget["properties"])


def _check_properties(kind: str, properties: dict[str, Any]) -> None:
    assert properties["title"]
    if kind == "alarm":
        assert properties["alarms"] and all(a.startswith("arn:aws:") for a in properties["alarms"])
        return
    assert properties["region"] == "us-east-1"
    if "metrics" not in properties:  # a single alarm's graph
        assert len(properties["annotations"]["alarms"]) == 1
        return
    for row in properties["metrics"]:
        options = row[-1]
        assert isinstance(options, dict)
        assert "expression" in options or (len(row) % 2 == 1 and isinstance(options["period"], int))
    for line in properties.get("annotations", {}).get("horizontal", []):
        assert isinstance(line["value"], (int, float)), line
