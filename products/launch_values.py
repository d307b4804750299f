"""Launch values checked before anything runs: by `build` and `plan` for every environment of
every product in catalog.yaml, and by `launch` for its --param values (portfolio/launch_values.py).

Against the built template: every name must be a parameter, every value must meet the parameter's
AllowedValues, AllowedPattern, Min/MaxLength and Min/MaxValue, a parameter without a default must
be set, the template's Rules and the portfolio's TEMPLATE constraints must hold. Against the tool's
settings schema (products/handler_settings.py): the structured settings (routes, targets). Errors
name where the value was written (file and dotted path, or the --param) and the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from catalog.config import CatalogConfig
from catalog.errors import ConfigError
from products.handler_settings import Label, settings_check
from products.spec import Product
from products.template_rules import parameter_values, rule_violations


class LaunchValueError(ConfigError):
    """A launch value that the template, its Rules or the tool's settings schema refuse."""


@dataclass(frozen=True)
class LaunchValues:
    """One launch's parameter values, and where each was written (for the error)."""

    product: str
    values: Mapping[str, str]
    label: Label  # parameter name -> "catalog.yaml: products.x.launch.dev.Key" or "--param Key"
    where: str  # the launch as a whole: "catalog.yaml: products.x.launch.dev"
    schema: tuple[str, str] | None = None  # (handler folder, settings module), if the tool has one


def check_launch(
    launch: LaunchValues, template: Mapping[str, Any], constraints: list[Mapping[str, Any]]
) -> None:
    """Raise LaunchValueError naming the first problem of LAUNCH against TEMPLATE and the
    TEMPLATE CONSTRAINTS' rules (each {"description", "rules"})."""
    problems = launch_problems(launch, template, constraints)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise LaunchValueError(problems[0] + more)


def launch_problems(
    launch: LaunchValues, template: Mapping[str, Any], constraints: list[Mapping[str, Any]]
) -> list[str]:
    declared: Mapping[str, Any] = template.get("Parameters") or {}
    problems = _unknown_names(launch, declared)
    problems += _missing(launch, declared)
    problems += [
        f"{launch.label(name)}{_shown(declared[name], value)}: {reason}"
        for name, value in sorted(launch.values.items())
        if name in declared
        for reason in [parameter_problem(declared[name], value)]
        if reason
    ]
    if problems:  # Rules and settings read every value: only once each one is well-formed
        return problems
    values = parameter_values(template, launch.values)
    rules = [template.get("Rules") or {}, *(c["rules"] for c in constraints)]
    problems += [f"{launch.where}: {text}" for r in rules for text in rule_violations(r, values)]
    if problems:  # a Rule and the settings schema may say the same thing: once is enough
        return problems
    complaint = _settings_complaint(launch, template)
    return [complaint] if complaint else []


def _shown(spec: Mapping[str, Any], value: str) -> str:
    # A long value (a target list) may hold URLs with tokens, a NoEcho one is secret by
    # declaration: neither is repeated in an error.
    if spec.get("NoEcho") in (True, "true") or len(value) > 80:
        return f" ({len(value)} characters)"
    return f"={value!r}"


def parameter_problem(spec: Mapping[str, Any], value: str) -> str | None:
    """Why VALUE does not meet the parameter SPEC's constraints, in plain words (None: it does)."""
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(item) for item in allowed]:
        return f"is not one of {', '.join(str(item) for item in allowed)}"
    if spec.get("Type") == "Number":
        return _number_problem(spec, value)
    if str(spec.get("Type", "String")) != "String":
        return None  # lists and AWS-specific types: CloudFormation checks them
    return _length_problem(spec, value) or _pattern_problem(spec, value)


def _number_problem(spec: Mapping[str, Any], value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return "is not a number"
    if "MinValue" in spec and number < float(spec["MinValue"]):
        return f"must be at least {spec['MinValue']}"
    if "MaxValue" in spec and number > float(spec["MaxValue"]):
        return f"must be at most {spec['MaxValue']}"
    return None


def _length_problem(spec: Mapping[str, Any], value: str) -> str | None:
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"must be at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"is {len(value)} characters, at most {spec['MaxLength']} are allowed"
    return None


def _pattern_problem(spec: Mapping[str, Any], value: str) -> str | None:
    pattern = spec.get("AllowedPattern")
    # CloudFormation matches the pattern against the whole value.
    if pattern is None or re.fullmatch(str(pattern), value):
        return None
    return str(spec.get("ConstraintDescription") or "is not of the form the parameter allows")


def _unknown_names(launch: LaunchValues, declared: Mapping[str, Any]) -> list[str]:
    known = ", ".join(sorted(declared))
    return [
        f"{launch.label(name)}: {name!r} is not a parameter of {launch.product} (known: {known})"
        for name in sorted(set(launch.values) - set(declared))
    ]


def _missing(launch: LaunchValues, declared: Mapping[str, Any]) -> list[str]:
    return [
        f"{launch.where}: parameter {name!r} has no default and is not set"
        for name, spec in sorted(declared.items())
        if "Default" not in spec and name not in launch.values
    ]


def _settings_complaint(launch: LaunchValues, template: Mapping[str, Any]) -> str | None:
    if launch.schema is None:
        return None
    settings, sources = function_settings(template, launch.values)

    def label(variable: str) -> str:
        source = sources.get(variable)
        return launch.label(source) if source else f"{launch.where} ({variable})"

    return settings_check(*launch.schema)(settings, label)


def function_settings(
    template: Mapping[str, Any], given: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The handler's environment variables as this launch sets them, and the parameter each
    comes from. Variables set from resources (a table's name) are not known before launch."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    parameters: Mapping[str, Any] = template.get("Parameters") or {}
    for variable, value in _environment_variables(template):
        if isinstance(value, str):
            values[variable] = value
        elif isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
            name = value["Ref"]
            values[variable] = given.get(name, str(parameters[name].get("Default", "")))
            sources[variable] = name
    return values, sources


def _environment_variables(template: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") == "AWS::Lambda::Function":
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            yield from variables.items()


def catalog_launches(config: CatalogConfig, product: Product) -> Iterator[LaunchValues]:
    """PRODUCT's launch in every environment (see catalog_launch)."""
    for environment in config.environment_names:
        yield catalog_launch(config, product, environment)


def catalog_launch(config: CatalogConfig, product: Product | str, environment: str) -> LaunchValues:
    """PRODUCT's launch values in ENVIRONMENT, with the catalog.yaml path of every value (a
    product given by name only has no settings schema to check)."""
    name = product if isinstance(product, str) else product.name
    values = config.launch_parameters(name, environment)
    launch = config.products[name].get("launch", {})
    where = f"{config.path}: products.{name}.launch.{environment}"
    label = _catalog_label(config, name, environment, launch)
    return LaunchValues(name, values, label, where, settings_schema(product))


def settings_schema(product: Product | str) -> tuple[str, str] | None:
    if isinstance(product, str) or product.settings_module is None:
        return None
    return product.handler, product.settings_module


def _catalog_label(
    config: CatalogConfig, product: str, environment: str, launch: Mapping[str, Any]
) -> Callable[[str], str]:
    def label(name: str) -> str:
        if name == "Environment":
            return f"{config.path}: environments.{environment}"
        for section in (environment, "default"):
            if name in launch.get(section, {}):
                return f"{config.path}: products.{product}.launch.{section}.{name}"
        return f"{config.path}: products.{product}.launch.{environment}.{name} (not set)"

    return label


def template_constraints(config: CatalogConfig, product: str) -> list[Mapping[str, Any]]:
    """The portfolio's TEMPLATE constraints on PRODUCT (portfolio.template_constraints)."""
    constraints: list[Mapping[str, Any]] = config.portfolio.get("template_constraints", {}).get(
        product, []
    )
    return constraints


def check_catalog_launches(
    config: CatalogConfig, built: Mapping[str, tuple[Product, Mapping[str, Any]]]
) -> None:
    """Every environment's launch of every BUILT product (name -> product, template)."""
    for name, (product, template) in built.items():
        for launch in catalog_launches(config, product):
            check_launch(launch, template, template_constraints(config, name))
