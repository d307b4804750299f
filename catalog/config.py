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

from catalog.errors import ConfigError
from catalog.schema import DEFAULT_DEPLOY_ROLE_NAME, DEFAULT_RUNBOOK_BASE_URL, catalog_schema

# Where an environment is deployed, not how its tools are configured: never a template setting.
_DEPLOYMENT_KEYS = frozenset({"account", "regions"})


@dataclass(frozen=True)
class DeployTarget:
    """Where one environment is deployed: an account (None: the pipeline's own) and regions."""

    environment: str
    account: str | None
    regions: tuple[str, ...]


@dataclass(frozen=True)
class PipelineSettings:
    """The release pipeline's settings from the optional `pipeline:` section."""

    deploy_role_name: str = DEFAULT_DEPLOY_ROLE_NAME

    def deploy_role_arn(self, account: str, partition: str = "aws") -> str:
        """The role a deploy stage assumes in ACCOUNT (created there by the spoke stack)."""
        return f"arn:{partition}:iam::{account}:role/{self.deploy_role_name}"


@dataclass(frozen=True)
class CatalogConfig:
    """The validated configuration. Plain data: building from it never reads the environment."""

    path: Path
    catalog: dict[str, Any]
    portfolio: dict[str, Any]
    environments: dict[str, dict[str, Any]]
    products: dict[str, dict[str, Any]]
    pipeline: PipelineSettings = PipelineSettings()

    @property
    def runbook_base_url(self) -> str:
        """Where docs/runbooks/ is published (catalog.runbook_base_url), without a final slash."""
        return str(self.catalog.get("runbook_base_url", DEFAULT_RUNBOOK_BASE_URL)).rstrip("/")

    @property
    def environment_names(self) -> list[str]:
        return list(self.environments)

    def deploy_target(self, environment: str) -> DeployTarget:
        """ENVIRONMENT's account (None: the pipeline's) and regions (else the portfolio's)."""
        self._require_environment(environment)
        settings = self.environments[environment]
        regions = settings.get("regions") or self.portfolio["regions"]
        return DeployTarget(environment, settings.get("account"), tuple(regions))

    def _require_environment(self, environment: str) -> None:
        if environment not in self.environments:
            raise ConfigError(
                f"{self.path}: environment {environment!r} is not defined "
                f"(known: {', '.join(self.environments)})"
            )

    def settings_for(self, product: str, environment: str) -> dict[str, Any]:
        """An environment's settings with the product's overrides for it applied: what a
        launch of PRODUCT gets, without where it is deployed (see deploy_target)."""
        merged = {
            key: copy.deepcopy(value)
            for key, value in self.environments[environment].items()
            if key not in _DEPLOYMENT_KEYS
        }
        overrides = self.products[product].get("overrides", {}).get(environment, {})
        for key, value in overrides.items():
            if key == "alarms":
                merged["alarms"].update(value)
            else:
                merged[key] = value
        return merged

    def launch_parameters(self, product: str, environment: str) -> dict[str, str]:
        """CloudFormation parameters for launching PRODUCT in ENVIRONMENT (Environment included)."""
        self._require_environment(environment)
        launch = self.products[product].get("launch", {})
        merged = {**launch.get("default", {}), **launch.get(environment, {})}
        merged["Environment"] = environment
        boundary = self.catalog.get("permissions_boundary_arn")
        if boundary:  # the launch role creates roles only with it (products/launch_role.py)
            merged["PermissionsBoundaryArn"] = boundary
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
        pipeline=PipelineSettings(**raw.get("pipeline", {})),
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: configuration file not found") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot read configuration: {error.strerror}") from error
    except UnicodeDecodeError as error:
        bad = error.object[error.start : error.start + 1].hex()
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{bad} at offset {error.start}); save it as UTF-8"
        ) from error
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
    _check_environment_regions(raw, path)
    _check_boundary_not_overridden(raw, path)
    environments = set(raw["environments"])
    for product, spec in raw["products"].items():
        for section in ("overrides", "launch"):
            for env in spec.get(section, {}):
                if (env != "default" or section == "overrides") and env not in environments:
                    raise ConfigError(
                        f"{path}: products.{product}.{section}.{env}: environment {env!r} "
                        f"is not defined under environments ({', '.join(sorted(environments))})"
                    )


def _check_environment_regions(raw: dict[str, Any], path: Path) -> None:
    # A product can only be launched where the portfolio is published.
    published = raw["portfolio"]["regions"]
    for env, settings in raw["environments"].items():
        for index, region in enumerate(settings.get("regions", [])):
            if region not in published:
                raise ConfigError(
                    f"{path}: environments.{env}.regions.{index}: {region!r} is not one of "
                    f"the portfolio's regions (portfolio.regions: {', '.join(published)})"
                )


def _check_boundary_not_overridden(raw: dict[str, Any], path: Path) -> None:
    boundary = raw["catalog"].get("permissions_boundary_arn")
    for product, spec in raw["products"].items():
        for env, values in spec.get("launch", {}).items():
            given = values.get("PermissionsBoundaryArn", boundary)
            if boundary and given != boundary:
                raise ConfigError(
                    f"{path}: products.{product}.launch.{env}.PermissionsBoundaryArn: {given!r} "
                    f"differs from catalog.permissions_boundary_arn ({boundary!r}); every "
                    "launch uses that boundary, remove the parameter"
                )
