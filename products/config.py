"""Load and validate the catalog configuration (catalog.yaml).

Validation happens once, at load, before anything else runs: every error names the file, the
dotted path of the bad field and its value, so a typo never reaches a template or an AWS call.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from products.errors import ConfigError

_NAME = r"^[a-z][a-z0-9-]{1,40}$"

_ALARMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "period_seconds",
        "evaluation_periods",
        "errors_threshold",
        "throttles_threshold",
        "duration_ratio",
        "dlq_depth_threshold",
    ],
    "properties": {
        # CloudWatch accepts 10, 30 or any multiple of 60 seconds for standard metrics.
        "period_seconds": {"type": "integer", "enum": [60, 120, 180, 300, 600, 900, 3600]},
        "evaluation_periods": {"type": "integer", "minimum": 1, "maximum": 10},
        "errors_threshold": {"type": "integer", "minimum": 1},
        "throttles_threshold": {"type": "integer", "minimum": 1},
        "duration_ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "dlq_depth_threshold": {"type": "integer", "minimum": 1},
    },
}

_SETTINGS_PROPERTIES: dict[str, Any] = {
    # Lambda limits: 128-10240 MB memory, 1-900 s timeout.
    "memory_mb": {"type": "integer", "minimum": 128, "maximum": 10240},
    "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 900},
    # The values CloudWatch Logs accepts for RetentionInDays.
    "log_retention_days": {
        "type": "integer",
        "enum": [
            1,
            3,
            5,
            7,
            14,
            30,
            60,
            90,
            120,
            150,
            180,
            365,
            400,
            545,
            731,
            1096,
            1827,
            2192,
            2557,
            2922,
            3288,
            3653,
        ],
    },
    "reserved_concurrency": {"type": "integer", "minimum": 1, "maximum": 1000},
    "tracing": {"type": "string", "enum": ["Active", "PassThrough"]},
    "alarms": _ALARMS_SCHEMA,
}

_ENVIRONMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": list(_SETTINGS_PROPERTIES),
    "properties": _SETTINGS_PROPERTIES,
}

_OVERRIDE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": _SETTINGS_PROPERTIES,
}

_PARAMETER_VALUES: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": r"^[A-Za-z0-9]{1,255}$"},
    "additionalProperties": {"type": ["string", "number", "boolean"]},
}

_PRODUCT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["description", "owner"],
    "properties": {
        # Service Catalog limits: Description 8191, Owner/Distributor 8191, SupportDescription 8191.
        "description": {"type": "string", "minLength": 1, "maxLength": 8191},
        "owner": {"type": "string", "minLength": 1, "maxLength": 8191},
        "distributor": {"type": "string", "maxLength": 8191},
        "support_email": {"type": "string", "maxLength": 254, "pattern": r"^[^@\s]+@[^@\s]+$"},
        "support_url": {"type": "string", "maxLength": 2083, "pattern": r"^https?://"},
        "overrides": {"type": "object", "additionalProperties": _OVERRIDE_SCHEMA},
        "launch": {"type": "object", "additionalProperties": _PARAMETER_VALUES},
        # Build-time settings: each tool declares and checks their shape when it is built
        # (products/build_settings.py), so adding a tool never edits this schema.
        "build": {"type": "object"},
    },
}


def _portfolio_schema() -> dict[str, Any]:
    # The publish side owns what a portfolio definition means; we embed its schema here so the
    # whole file is validated in one pass.
    from portfolio.schema import PORTFOLIO_SCHEMA

    return PORTFOLIO_SCHEMA


def catalog_schema() -> dict[str, Any]:
    """The JSON schema of catalog.yaml."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["catalog", "portfolio", "environments", "products"],
        "properties": {
            "catalog": {
                "type": "object",
                "additionalProperties": False,
                "required": ["artifact_bucket_prefix", "resource_prefix"],
                "properties": {
                    # Leaves room for "-<region>" inside S3's 63-character bucket name limit.
                    "artifact_bucket_prefix": {
                        "type": "string",
                        "pattern": r"^[a-z0-9][a-z0-9-]{2,46}$",
                    },
                    "resource_prefix": {"type": "string", "pattern": r"^[a-z][a-z0-9-]{1,15}$"},
                },
            },
            "portfolio": _portfolio_schema(),
            "environments": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": r"^[a-z][a-z0-9]{1,15}$"},
                "additionalProperties": _ENVIRONMENT_SCHEMA,
            },
            "products": {
                "type": "object",
                "propertyNames": {"pattern": _NAME},
                "additionalProperties": _PRODUCT_SCHEMA,
            },
        },
    }


@dataclass(frozen=True)
class CatalogConfig:
    """The validated configuration. Plain data: building from it never reads the environment."""

    path: Path
    catalog: dict[str, Any]
    portfolio: dict[str, Any]
    environments: dict[str, dict[str, Any]]
    products: dict[str, dict[str, Any]]

    @property
    def environment_names(self) -> list[str]:
        return list(self.environments)

    def settings_for(self, product: str, environment: str) -> dict[str, Any]:
        """An environment's settings with the product's overrides for it applied."""
        merged = copy.deepcopy(self.environments[environment])
        overrides = self.products[product].get("overrides", {}).get(environment, {})
        for key, value in overrides.items():
            if key == "alarms":
                merged["alarms"].update(value)
            else:
                merged[key] = value
        return merged

    def launch_parameters(self, product: str, environment: str) -> dict[str, str]:
        """CloudFormation parameters for launching PRODUCT in ENVIRONMENT (Environment included)."""
        if environment not in self.environments:
            raise ConfigError(
                f"{self.path}: environment {environment!r} is not defined "
                f"(known: {', '.join(self.environments)})"
            )
        launch = self.products[product].get("launch", {})
        merged = {**launch.get("default", {}), **launch.get(environment, {})}
        merged["Environment"] = environment
        return {key: _parameter_text(value) for key, value in merged.items()}


def _parameter_text(value: object) -> str:
    # CloudFormation parameter values are strings; YAML booleans become "true"/"false".
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_config(path: Path) -> CatalogConfig:
    """Read, validate and return the configuration at PATH."""
    raw = _read_yaml(path)
    _validate(raw, path)
    _check_cross_references(raw, path)
    return CatalogConfig(
        path=path,
        catalog=raw["catalog"],
        portfolio=raw["portfolio"],
        environments=raw["environments"],
        products=raw["products"],
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: configuration file not found") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot read configuration: {error.strerror}") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(error)}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return str(problem)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"


def _validate(raw: dict[str, Any], path: Path) -> None:
    validator = jsonschema.Draft202012Validator(catalog_schema())
    errors = sorted(validator.iter_errors(raw), key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(f"{path}: {describe_schema_error(first)}{more}")


def describe_schema_error(error: jsonschema.ValidationError) -> str:
    """'<dotted.path>: <value> <why>' for one schema violation."""
    dotted = ".".join(str(part) for part in error.absolute_path) or "<top level>"
    if error.validator == "additionalProperties":
        return f"{dotted}: {error.message}"
    if error.validator == "required":
        return f"{dotted}: {error.message}"
    if error.validator == "propertyNames":
        return f"{dotted}: name {error.instance!r} is not allowed ({error.message})"
    return f"{dotted}: {error.instance!r} {_reason(error)}"


def _reason(error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "enum":
        return f"is not one of {schema.get('enum')}"
    if error.validator == "pattern":
        return f"does not match {schema.get('pattern')}"
    if error.validator == "type":
        return f"is not of type {schema.get('type')}"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"is out of range ({error.validator} {schema.get(str(error.validator))})"
    return f"is invalid: {error.message}"


def _check_cross_references(raw: dict[str, Any], path: Path) -> None:
    environments = set(raw["environments"])
    for product, spec in raw["products"].items():
        for section in ("overrides", "launch"):
            for env in spec.get(section, {}):
                if (env != "default" or section == "overrides") and env not in environments:
                    raise ConfigError(
                        f"{path}: products.{product}.{section}.{env}: environment {env!r} "
                        f"is not defined under environments ({', '.join(sorted(environments))})"
                    )
