"""No module of products/ imports itself back through others, not even for type checking.

A circle makes every module in it load (and be understood) only together with the rest; the
builder, its alarms and the product spec used to form one. grimp reads the imports statically,
including those under TYPE_CHECKING and inside functions.
"""

from __future__ import annotations

import grimp

PACKAGE = "products"


def _cycles(graph: grimp.ImportGraph) -> list[str]:
    """One line per import A -> B where B also leads back to A, with the way back."""
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                found.append(f"{importer} -> {' -> '.join(back)}")
    return found


def test_products_has_no_import_cycle() -> None:
    graph = grimp.build_graph(PACKAGE, include_external_packages=False, cache_dir=None)
    cycles = _cycles(graph)
    assert not cycles, "import cycles in products/:\n" + "\n".join(cycles)


def test_a_cycle_is_found() -> None:
    # Guards the check above against passing vacuously: a circle added to a copy of the graph.
    graph = grimp.build_graph(PACKAGE, include_external_packages=False, cache_dir=None)
    graph.add_import(importer="products.errors", imported="products.spec")
    assert "products.errors -> products.spec -> products.errors" in _cycles(graph)
