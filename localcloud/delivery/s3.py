"""S3 event notifications in S3's shape (keys URL-encoded, times from the clock), to Lambda
through the runtime (principal s3.amazonaws.com, the bucket ARN and owner as conditions), SQS,
SNS (Subject "Amazon S3 Notification") and EventBridge."""

from __future__ import annotations

import datetime
import itertools
import json
import logging
from typing import Any
from urllib.parse import quote_plus

from ..clock import CLOCK
from .functions import invoke_function, trace_header
from .state import DELIVERY

logger = logging.getLogger("localcloud.delivery")
_SEQUENCER = itertools.count(1)


def _iso_millis(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def s3_event(event_name: str, bucket: Any, key: Any, configuration_id: str) -> dict[str, Any]:
    """One notification as S3 sends it (docs: "Event message structure", eventVersion 2.1)."""
    name = event_name.removeprefix("s3:")
    request_id = f"{next(_SEQUENCER):016X}"
    s3_object: dict[str, Any] = {"key": quote_plus(key.name)}
    if name.startswith("ObjectCreated"):
        s3_object.update(size=key.size, eTag=key.etag.replace('"', ""))
    if getattr(key, "version_id", None) and key.version_id != "null":
        s3_object["versionId"] = key.version_id
    s3_object["sequencer"] = f"{int(CLOCK.now() * 1000):012X}{request_id[-6:]}"
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region_name,
        "eventTime": _iso_millis(CLOCK.now()),
        "eventName": name,
        "userIdentity": {"principalId": f"AWS:{bucket.account_id}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": request_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket.name,
                "ownerIdentity": {"principalId": bucket.account_id},
                "arn": bucket.arn,
            },
            "object": s3_object,
        },
    }
    return {"Records": [record]}


def invoke_for_bucket(account_id: str, event_body: Any, function_arn: str, region: str) -> None:
    bucket = event_body["Records"][0]["s3"]["bucket"]
    invoke_function(
        "s3",
        function_arn,
        json.dumps(event_body).encode(),
        principal="s3.amazonaws.com",
        source_arn=bucket["arn"],
        source_account=account_id,
        trace_header=trace_header(),
    )


def publish_for_bucket(account_id: str, event_body: Any, topic_arn: str, region: str) -> None:
    from moto.sns.models import sns_backends

    try:
        sns_backends[topic_arn.split(":")[4]][region].publish(
            message=json.dumps(event_body), arn=topic_arn, subject="Amazon S3 Notification"
        )
    except Exception as error:  # asynchronous on AWS: the upload succeeds, the failure is noted
        _record(event_body, topic_arn, error)


def queue_for_bucket(account_id: str, event_body: Any, queue_name: str, region: str) -> None:
    from moto.sqs.models import sqs_backends

    try:
        sqs_backends[account_id][region].send_message(
            queue_name=queue_name, message_body=json.dumps(event_body)
        )
    except Exception as error:
        _record(event_body, queue_name, error)


def _record(event_body: Any, target: str, error: Exception) -> None:
    bucket_arn = event_body.get("Records", [{}])[0].get("s3", {}).get("bucket", {}).get("arn", "")
    logger.warning("s3 could not notify %s: %r", target, error)
    DELIVERY.record_failure("s3", bucket_arn, target, repr(error))
