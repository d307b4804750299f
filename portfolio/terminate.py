"""Terminate: remove one provisioned product, its stack and every resource the stack holds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from portfolio.aws import unless_not_found
from portfolio.errors import PublishError
from portfolio.polling import wait_for

_DONE = ("SUCCEEDED", "FAILED")
# Service Catalog refuses to start a termination while another change runs on the product.
_BUSY = ("UNDER_CHANGE", "PLAN_IN_PROGRESS")


class NotLaunchedError(PublishError):
    """There is no provisioned product of that name (in that account and region)."""


def describe_launched(sc: Any, name: str) -> dict[str, Any] | None:
    """ProvisionedProductDetail of NAME, or None when there is none."""
    described = unless_not_found(lambda: sc.describe_provisioned_product(Name=name))
    return None if described is None else dict(described["ProvisionedProductDetail"])


def terminate_provisioned_product(sc: Any, name: str, progress: Callable[[str], None]) -> str:
    """Terminate NAME and wait until it is gone; the termination's record id."""
    detail = describe_launched(sc, name)
    if detail is None:
        raise NotLaunchedError(f"no provisioned product {name!r}; nothing to terminate")
    if detail.get("Status") in _BUSY:
        raise PublishError(
            f"provisioned product {name!r} is {detail['Status']}; wait for it to finish "
            "and terminate again"
        )
    # A fresh token: a repeated one would answer an earlier termination's record.
    response = sc.terminate_provisioned_product(
        ProvisionedProductName=name, TerminateToken=uuid.uuid4().hex
    )
    record_id = str(response["RecordDetail"]["RecordId"])
    progress(f"{name}: terminating (record {record_id})")
    _wait_terminated(sc, record_id, name, progress)
    return record_id


def _wait_terminated(sc: Any, record_id: str, name: str, progress: Callable[[str], None]) -> None:
    seen: list[str] = []

    def check() -> dict[str, Any] | None:
        record: dict[str, Any] = sc.describe_record(Id=record_id)["RecordDetail"]
        if not seen or seen[-1] != record["Status"]:
            seen.append(record["Status"])
            progress(f"{name}: {record['Status']}")
        return record if record["Status"] in _DONE else None

    record = wait_for(check, f"termination of {name} (record {record_id})")
    if record["Status"] == "FAILED":
        reasons = "; ".join(e.get("Description", "") for e in record.get("RecordErrors", []))
        raise PublishError(
            f"termination of {name} failed: {reasons or 'no reason given'}; fix what the "
            "stack could not delete and terminate again"
        )
