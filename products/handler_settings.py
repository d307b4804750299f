"""A tool's settings schema, read from its handler: one definition for the handler and the build.

A handler module named by Product.settings_module defines
`check_settings(values, label)`: VALUES are the function's environment variables as a launch sets
them, LABEL(variable) names where a value was written; it raises SettingsError (imported into the
module by that name) with a message in plain words. The handler parses its settings with the
same functions at run time, so `build`, `plan` and `launch` refuse what the function would fail on.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, cast

from products.packaging import HANDLERS_DIR

Label = Callable[[str], str]


class SettingsCheck(Protocol):
    def __call__(self, values: Mapping[str, str], label: Label) -> None: ...


def settings_check(
    handler: str, module: str, handlers_dir: Path = HANDLERS_DIR
) -> Callable[[Mapping[str, str], Label], str | None]:
    """A function that returns the schema's complaint about VALUES (None when they are valid)."""
    schema = _handler_module(handlers_dir, handler, module)
    check = cast(SettingsCheck, schema.check_settings)
    # The class the module itself raises (a test may have loaded oncall_shared afresh since).
    settings_error: type[Exception] = schema.SettingsError

    def complaint(values: Mapping[str, str], label: Label) -> str | None:
        try:
            check(values, label)
        except settings_error as error:
            return str(error)
        return None

    return complaint


def _handler_module(handlers_dir: Path, handler: str, module: str) -> Any:
    # Handler modules import each other as top-level modules (as in the Lambda zip), with
    # oncall_shared beside them; their names carry the tool's prefix, so they never collide.
    with _on_path(handlers_dir / "shared", handlers_dir / handler):
        return importlib.import_module(module)


@contextlib.contextmanager
def _on_path(*folders: Path) -> Iterator[None]:
    added = [str(folder) for folder in folders if str(folder) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for folder in added:
            sys.path.remove(folder)
