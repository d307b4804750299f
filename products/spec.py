"""What a product is, and how products are discovered.

A product is one module in products/tools/ defining a subclass of Product. Nothing lists them:
discover_products() walks the package, so adding a tool never edits a central list.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, ClassVar

from products.build_settings import NO_BUILD_SETTINGS
from products.errors import BuildError

if TYPE_CHECKING:
    from products.builder import ProductBuilder
    from products.iam import Grant


class Product:
    """Base class of a tool type. Subclasses set the class attributes and extend the builder."""

    name: ClassVar[str]  # Service Catalog product name and dist/templates/<name>.json
    handler: ClassVar[str]  # folder under handlers/
    title: ClassVar[str]  # human name, shown in the template description
    summary: ClassVar[str]  # one sentence: what the tool does
    scheduled: ClassVar[bool] = False  # scheduled tools get a "did not run" alarm
    # JSON schema of the tool's catalog.yaml products.<name>.build block, checked when the
    # product is built (products/build_settings.py); builder.build_settings is the checked block.
    build_settings_schema: ClassVar[dict[str, Any]] = NO_BUILD_SETTINGS
    # The handler module (in handlers/<handler>/) whose check_settings is the tool's settings
    # schema: build, plan and launch check launch values with it (products/handler_settings.py).
    settings_module: ClassVar[str | None] = None
    # CloudFormation resource types extend() adds beyond the shared builder's (Lambda::Permission
    # for triggers, Events::Rule, DynamoDB::Table, ...): the launch role is granted what each
    # needs (products/launch_role.py); the meta-test checks this against the built template.
    launch_resource_types: ClassVar[frozenset[str]] = frozenset()

    def extend(self, builder: ProductBuilder) -> None:
        """Add the tool's own parameters, triggers, tables and environment variables."""
        raise NotImplementedError

    def permissions(self, builder: ProductBuilder) -> list[Grant]:
        """The IAM statements the handler needs beyond logging, DLQ, key and alert topic."""
        raise NotImplementedError


def discover_products() -> dict[str, Product]:
    """Every Product subclass defined in products/tools/, by product name, sorted by name."""
    import products.tools as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    found: dict[str, Product] = {}
    # Only classes defined in products/tools count: a subclass made elsewhere (a test, a plugin
    # imported for another reason) must not turn into a published product by accident.
    in_package = (
        c for c in _all_subclasses(Product) if c.__module__.startswith(f"{package.__name__}.")
    )
    for cls in in_package:
        product = cls()
        if product.name in found:
            raise BuildError(
                f"product name {product.name!r} is defined twice "
                f"({type(found[product.name]).__name__} and {cls.__name__})"
            )
        found[product.name] = product
    return dict(sorted(found.items()))


def _all_subclasses(cls: type[Product]) -> list[type[Product]]:
    result: list[type[Product]] = []
    for sub in cls.__subclasses__():
        result.append(sub)
        result.extend(_all_subclasses(sub))
    return result
