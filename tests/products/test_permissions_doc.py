"""docs/publishing.md's permissions table is generated from products/permissions.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from products.permissions import DEPLOY, PUBLISH, TABLE_BEGIN, with_permissions_table

PUBLISHING_DOC = Path(__file__).parents[2] / "docs" / "publishing.md"


def test_the_permissions_table_matches_the_declaration(request: pytest.FixtureRequest) -> None:
    page = PUBLISHING_DOC.read_text()
    expected = with_permissions_table(page)
    if request.config.getoption("--update-golden"):
        PUBLISHING_DOC.write_text(expected)
        page = expected
    assert page == expected, (
        f"{PUBLISHING_DOC} permissions table is stale; rerun the golden tests with "
        "--update-golden and review the diff"
    )


def test_every_declared_action_is_a_row() -> None:
    table = PUBLISHING_DOC.read_text().partition(TABLE_BEGIN)[2]
    for role, permissions in (("publish", PUBLISH), ("deploy", DEPLOY)):
        for permission in permissions:
            assert f"| {role} | `{permission.name}` |" in table


def test_a_page_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks the markers"):
        with_permissions_table("# no table here\n")
