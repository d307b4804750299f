"""Fuzz: the health checker reads nothing from its event but its type, so any JSON object
starts a run and anything else ends in a counted BadEventError, whatever the object holds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from oncall_shared.errors import BadEventError

from tests.handlers.event_mutations import (
    FUZZ_SETTINGS,
    fresh_context,
    malformed_events,
    succeeds_or_refused,
)


@pytest.fixture
def checker(health_aws, set_targets, http_receiver, monkeypatch, load_handler) -> Any:
    # A server that accepts every connection: a bare listener's backlog fills after a few runs.
    monkeypatch.setenv("ALLOW_PRIVATE_NETWORKS", "true")
    set_targets([{"name": "api", "type": "http", "url": http_receiver.url + "/health"}])
    return load_handler("health_checker")


def test_any_object_starts_a_run_and_anything_else_is_a_bad_event(
    checker, lambda_context, event, capsys
):
    @FUZZ_SETTINGS
    @given(malformed_events([event("health_scheduled_event"), {}]))
    def property(body: Any) -> None:
        outcome = succeeds_or_refused(
            lambda: checker.lambda_handler(body, fresh_context(lambda_context)), capsys
        )
        assert outcome == ("ok" if isinstance(body, dict) else "refused")

    property()


def test_a_schedule_whose_detail_type_is_a_list_still_runs(checker, lambda_context, event):
    body = event("health_scheduled_event")
    body["detail-type"] = []

    assert checker.lambda_handler(body, lambda_context)["checked"] == 1


def test_a_list_event_is_a_counted_bad_event(checker, lambda_context, capsys):
    capsys.readouterr()
    with pytest.raises(BadEventError, match="got list"):
        checker.lambda_handler([], lambda_context)
    assert '"MalformedEvents"' in capsys.readouterr().out
