"""Rendering: the plan table, its counts and JSON, long cells cut in the middle."""

from __future__ import annotations

import json
from pathlib import Path

from portfolio.changes import Action, Change, ObjectUpload, Plan, PortfolioTags, PrincipalRef
from portfolio.render import plan_counts, plan_json, plan_table, table

KEY = "s3://bucket-us-east-1/templates/alert-handler/" + "ab" * 32 + ".json"


def _plan() -> Plan:
    return Plan(
        (
            Change("us-east-1", KEY, Action.CREATE, ObjectUpload("bucket", KEY, Path("t.json"))),
            Change("us-east-1", "On-call Tools", Action.NO_CHANGE, PortfolioTags(), "port-1"),
            Change(
                "us-east-1",
                "IAM arn:aws:iam::1:role/X",
                Action.DELETE,
                PrincipalRef("IAM", "arn:aws:iam::1:role/X"),
            ),
        )
    )


def test_table_aligns_columns_and_cuts_long_cells_in_the_middle() -> None:
    lines = table(("A", "B"), [("x", KEY), ("longer", "y")]).splitlines()
    assert lines[0].startswith("A       B")
    assert lines[2].startswith("x       s3://bucket-us-east-1/templates/")
    assert lines[2].endswith("abab.json")
    assert "..." in lines[2]
    assert len(lines[2]) == len("longer  ") + 70


def test_plan_table_hides_unchanged_rows_unless_asked() -> None:
    pending_only = plan_table(_plan(), show_unchanged=False)
    assert "On-call Tools" not in pending_only
    assert "On-call Tools" in plan_table(_plan())
    assert plan_counts(_plan()) == "1 to create, 0 to update, 1 to delete, 1 unchanged"


def test_plan_json_is_machine_readable() -> None:
    document = json.loads(plan_json(_plan()))
    assert document["changes_pending"] is True
    assert document["changes"][1] == {
        "region": "us-east-1",
        "kind": "portfolio",
        "name": "On-call Tools",
        "action": "no change",
        "detail": "port-1",
    }
