"""Decode the three inputs into log sources, all validated before anything is read or sent.

- CloudWatch Logs subscription: {"awslogs": {"data": base64(gzip(json))}}; CONTROL_MESSAGE skipped.
- S3 notification: Records[] with eventSource "aws:s3" and eventName "ObjectCreated:*".
- EventBridge: source "aws.s3", detail-type "Object Created".
S3 keys arrive URL-encoded ("my logs/a.gz" -> "my+logs/a.gz"), so they are unquote_plus'ed.
"""

from __future__ import annotations

import binascii
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent, S3Event
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from oncall_shared.errors import BadEventError
from oncall_shared.events import clip, region_code, required_str

CONTROL_MESSAGE = "CONTROL_MESSAGE"
DATA_MESSAGE = "DATA_MESSAGE"
# S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens today; buckets created in
# us-east-1 before March 2018 may hold up to 255 characters with capitals and underscores.
_BUCKET_NAME = re.compile(r"[A-Za-z0-9._-]{3,255}\Z")
# An object key is UTF-8 of at most 1,024 bytes.
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class LogBatch:
    """Log events delivered inline by a CloudWatch Logs subscription."""

    owner: str
    log_group: str
    log_stream: str
    messages: list[str]


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str  # decoded
    raw_key: str  # as sent, for the fallback when a key was not actually encoded
    region: str | None


@dataclass(frozen=True)
class DecodedEvent:
    kind: str  # "logs" | "control" | "s3"
    batch: LogBatch | None = None
    objects: tuple[S3Object, ...] = ()


def decode_event(event: Any) -> DecodedEvent:
    if not isinstance(event, Mapping):
        raise BadEventError(f"event is a {type(event).__name__}, expected a JSON object")
    if "awslogs" in event:
        return decode_logs_event(event)
    if "Records" in event:
        return DecodedEvent("s3", objects=tuple(_s3_records(event)))
    if event.get("source") == "aws.s3" and event.get("detail-type") == "Object Created":
        return DecodedEvent("s3", objects=(_eventbridge_object(event),))
    raise BadEventError(
        f"event with keys {sorted(event)[:10]} is not a CloudWatch Logs subscription, "
        "an S3 notification or an EventBridge 'Object Created' event"
    )


def decode_logs_event(event: Mapping[str, Any]) -> DecodedEvent:
    data = _logs_payload(event)
    message_type = data.get("messageType")
    if message_type == CONTROL_MESSAGE:
        return DecodedEvent("control")
    if message_type != DATA_MESSAGE:
        raise BadEventError(
            f"awslogs messageType={message_type!r} is not DATA_MESSAGE or CONTROL_MESSAGE"
        )
    return DecodedEvent("logs", batch=_log_batch(data))


def _logs_payload(event: Mapping[str, Any]) -> dict[str, Any]:
    wrapper = CloudWatchLogsEvent(dict(event))
    try:
        raw = wrapper.decompress_logs_data
    except (KeyError, TypeError):
        raise BadEventError("awslogs.data is missing or not a string") from None
    except (binascii.Error, ValueError) as error:
        # base64 decoding a str with non-ASCII characters is a plain ValueError.
        raise BadEventError(f"awslogs.data is not valid base64 ({error})") from None
    except zlib.error as error:
        raise BadEventError(f"awslogs.data is not gzip data ({error})") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        # ValueError covers bad JSON, bad UTF-8 and integers over 4,300 digits.
        raise BadEventError(f"awslogs.data does not hold JSON ({error})") from None
    if not isinstance(data, dict):
        raise BadEventError("awslogs.data JSON is not an object")
    return data


def _log_batch(data: Mapping[str, Any]) -> LogBatch:
    events = data.get("logEvents")
    if not isinstance(events, list):
        raise BadEventError("awslogs data has no logEvents list")
    messages = []
    for index, item in enumerate(events):
        message = item.get("message") if isinstance(item, Mapping) else None
        if not isinstance(message, str):
            raise BadEventError(f"awslogs logEvents[{index}] has no message string")
        messages.append(message)
    return LogBatch(
        owner=data["owner"] if isinstance(data.get("owner"), str) else "",
        log_group=required_str(data, "logGroup", "awslogs data"),
        log_stream=required_str(data, "logStream", "awslogs data"),
        messages=messages,
    )


def _s3_records(event: Mapping[str, Any]) -> list[S3Object]:
    records = event["Records"]
    if not isinstance(records, list) or not records:
        raise BadEventError("event.Records is empty or not a list")
    wrapped = S3Event(dict(event)).records
    return [_s3_record(record, index) for index, record in enumerate(wrapped)]


def _s3_record(record: S3EventRecord, index: int) -> S3Object:
    """Fields are checked on the raw record: the data class only names them (KeyError when
    one is missing, no type check)."""
    label = f"Records[{index}]"
    raw = record.raw_event
    if not isinstance(raw, Mapping) or raw.get("eventSource") != "aws:s3":
        raise BadEventError(f"{label} is not an S3 notification record (eventSource != 'aws:s3')")
    event_name = str(raw.get("eventName", ""))
    if not event_name.startswith("ObjectCreated:"):
        raise BadEventError(f"{label}.eventName={event_name!r} is not an ObjectCreated event")
    s3 = raw.get("s3")
    if not isinstance(s3, Mapping):
        raise BadEventError(f"{label} has no 's3' object")
    bucket = _bucket(required_str(_sub(s3, "bucket", label), "name", f"{label}.s3.bucket"))
    raw_key = _key(required_str(_sub(s3, "object", label), "key", f"{label}.s3.object"))
    region = _region(raw.get("awsRegion"), f"{label}.awsRegion")
    return S3Object(bucket, unquote_plus(raw_key), raw_key, region)


def _eventbridge_object(event: Mapping[str, Any]) -> S3Object:
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise BadEventError("EventBridge 'Object Created' event has no detail object")
    bucket = _bucket(required_str(_sub(detail, "bucket", "detail"), "name", "detail.bucket"))
    raw_key = _key(required_str(_sub(detail, "object", "detail"), "key", "detail.object"))
    return S3Object(bucket, unquote_plus(raw_key), raw_key, _region(event.get("region"), "region"))


def _bucket(name: str) -> str:
    if not _BUCKET_NAME.match(name):
        raise BadEventError(f"S3 bucket name {clip(name)!r} is not a valid bucket name")
    return name


def _key(key: str) -> str:
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate, from a "\ud800" escape in the JSON
        raise BadEventError(f"S3 object key {clip(key)!r} is not valid UTF-8") from None
    if size > MAX_KEY_BYTES:
        raise BadEventError(f"S3 object key {clip(key)!r} is over {MAX_KEY_BYTES} bytes")
    return key


def _region(value: Any, label: str) -> str | None:
    """The event's region (absent or empty: the function's own), checked as a region code."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadEventError(f"{label}={clip(value)!r} is not a region code")
    return region_code(value, label)


def _sub(container: Mapping[str, Any], key: str, label: str) -> Mapping[str, Any]:
    value = container.get(key)
    if not isinstance(value, Mapping):
        raise BadEventError(f"{label} has no {key!r} object")
    return value
