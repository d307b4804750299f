"""CloudWatch Logs subscription filters: events that match a filter's pattern go to its Lambda
destination as the real `awslogs` payload, through the runtime (principal logs.amazonaws.com)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from .functions import invoke_function, trace_header
from .log_filters import compile_pattern


def log_group_arn(region: str, account: str, name: str) -> str:
    # The ARN Lambda permissions name for CloudWatch Logs: with the trailing ":*".
    return f"arn:aws:logs:{region}:{account}:log-group:{name}:*"


def matching_events(filter_pattern: str, log_events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    matches = compile_pattern(filter_pattern or "")
    return [
        {"id": f"{int(e['id']):056d}", "timestamp": e["timestamp"], "message": e["message"]}
        for e in log_events
        if matches(str(e["message"]))
    ]


def awslogs_payload(
    account: str, group: str, stream: str, filter_name: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    document = {
        "messageType": "DATA_MESSAGE",
        "owner": account,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": [filter_name],
        "logEvents": events,
    }
    data = gzip.compress(json.dumps(document).encode(), mtime=0)
    return {"awslogs": {"data": base64.b64encode(data).decode("ascii")}}


def deliver_to_function(
    stream: Any, subscription_filter: Any, events: list[dict[str, Any]]
) -> None:
    group = stream.log_group.name
    payload = awslogs_payload(
        stream.account_id, group, stream.log_stream_name, subscription_filter.name, events
    )
    invoke_function(
        "logs",
        subscription_filter.destination_arn,
        json.dumps(payload).encode(),
        principal="logs.amazonaws.com",
        source_arn=log_group_arn(stream.region, stream.account_id, group),
        source_account=stream.account_id,
        trace_header=trace_header(),
    )
