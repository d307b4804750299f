"""Each tool's build settings (catalog.yaml products.<tool>.build), checked against its own schema.

Build settings are what a template must be built for (an IAM condition key cannot come from a
launch parameter, for instance). The central config schema only knows that the block is a
mapping; the tool that reads it declares its shape (Product.build_settings_schema) next to its
builder, and the block is checked here when the product is built, with errors that name the
file and the dotted path like the config's own.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from catalog.config import CatalogConfig, describe_schema_error
from catalog.errors import ConfigError

# The shape of a tool that has no build settings: an empty block at most.
NO_BUILD_SETTINGS: dict[str, Any] = {"type": "object", "additionalProperties": False}


def checked_build_settings(
    config: CatalogConfig, product: str, schema: dict[str, Any]
) -> dict[str, Any]:
    """PRODUCT's build block (empty if absent), valid against the tool's SCHEMA."""
    settings: dict[str, Any] = config.products[product].get("build", {})
    # Validated where it sits in the file, so the error's path is the one a reader looks up.
    located = {"products": {product: {"build": settings}}}
    validator = jsonschema.Draft202012Validator(_located_schema(product, schema))
    errors = sorted(validator.iter_errors(located), key=_path_text)
    if errors:
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(f"{config.path}: {describe_schema_error(errors[0])}{more}")
    return settings


def _located_schema(product: str, schema: dict[str, Any]) -> dict[str, Any]:
    return _object_with("products", _object_with(product, _object_with("build", schema)))


def _object_with(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {key: schema}}


def _path_text(error: jsonschema.ValidationError) -> list[str]:
    return [str(part) for part in error.absolute_path]
