"""Fuzz: every malformed log event reads nothing, alerts nobody, ends in a counted BadEventError.

The sweep tries each single mutation of each accepted shape on the decoder (the CloudWatch
Logs payload is unpacked from base64 and gzip, mutated and packed again); the property test
runs the whole handler against real objects in the local S3 on a sample.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from log_sources import decode_event
from oncall_shared.errors import BadEventError

from tests.handlers.event_mutations import (
    FUZZ_SETTINGS,
    fresh_context,
    malformed_events,
    succeeds_or_refused,
    sweep_failures,
)

VALID = (
    "logs_subscription_lambda_errors",
    "logs_control_message",
    "s3_notification_object_created",
    "s3_eventbridge_object_created",
)


@pytest.mark.parametrize("name", VALID)
def test_every_single_mutation_of_a_log_event_decodes_or_is_refused(event, name):
    assert sweep_failures(decode_event, event(name)) == []


def test_malformed_log_events_are_refused_before_any_alert(
    processor, log_stack, lambda_context, event, capsys
):
    # The objects the two S3 events name exist, so a mutation that keeps them valid succeeds.
    log_stack.put_object("web tier/2026/11/28/app server+1.log.gz", "ERROR x\n", gzipped=True)
    log_stack.put_object("batch/2026-11-28/worker+7.log", "FATAL disk full\n")

    @FUZZ_SETTINGS
    @given(malformed_events([event(name) for name in VALID]))
    def property(body: Any) -> None:
        outcome = succeeds_or_refused(
            lambda: processor.lambda_handler(body, fresh_context(lambda_context)), capsys
        )
        if outcome == "refused":
            assert log_stack.alerts() == []
        else:
            log_stack.alerts()  # drained: the next example's check sees only its own

    property()


def s3_record(field: str, value: Any) -> Any:
    def change(body: Any) -> Any:
        record = body["Records"][0]
        if field == "awsRegion":
            record["awsRegion"] = value
        else:
            record["s3"]["bucket"]["name"] = value
        return body

    return change


def eventbridge_detail_type(body: Any) -> Any:
    body["detail-type"] = []
    return body


# Each was once a ValueError or a botocore InvalidRegionError / ParamValidationError.
SEEN: dict[str, tuple[str, Any, str]] = {
    "awslogs data é": (
        "logs_subscription_lambda_errors",
        lambda body: {"awslogs": {"data": "é"}},
        "not valid base64",
    ),
    "S3 region us east 1": (
        "s3_notification_object_created",
        s3_record("awsRegion", "us east 1"),
        "not a region code",
    ),
    "S3 bucket 漢": (
        "s3_notification_object_created",
        s3_record("bucket", "漢"),
        "not a valid bucket name",
    ),
    "detail-type []": ("s3_eventbridge_object_created", eventbridge_detail_type, "is not a"),
}


@pytest.mark.parametrize("case", sorted(SEEN))
def test_events_that_once_escaped_as_other_errors_are_bad_events(
    processor, log_stack, lambda_context, event, capsys, case
):
    name, change, message = SEEN[case]
    capsys.readouterr()

    with pytest.raises(BadEventError, match=message):
        processor.lambda_handler(change(event(name)), lambda_context)

    assert '"MalformedEvents"' in capsys.readouterr().out
    assert log_stack.alerts() == []
