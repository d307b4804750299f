"""SNS delivery as AWS does it, replacing moto's (which posts anywhere with requests, delivers to
unconfirmed endpoints and cannot run functions).

- sqs: the JSON envelope (or the raw message with RawMessageDelivery), at once.
- lambda: the SNS event through the runtime's asynchronous invoke (resource policy checked).
- http/https: a clock job per POST, loopback addresses only; 5xx and connection failures are
  retried 3 times 20 s apart (SNS's default delivery policy); the endpoint must first confirm
  the subscription (SubscriptionConfirmation POST, then ConfirmSubscription) unless auto-confirm
  is on.
- email/email-json: into the outbox (confirmation e-mail first, as for http).
"""

from __future__ import annotations

import datetime
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from ..clock import CLOCK
from . import network
from .functions import invoke_function, trace_header
from .signing import CERT_NAME, sign
from .state import DELIVERY, Email

logger = logging.getLogger("localcloud.delivery")

CONFIRMED_BY_ENDPOINT = ("http", "https", "email", "email-json")
HTTP_RETRIES = 3
HTTP_RETRY_DELAY_SECONDS = 20.0
DEFAULT_EMAIL_SUBJECT = "AWS Notification Message"
PublishArgs = dict[str, Any]


def iso_now() -> str:
    moment = datetime.datetime.fromtimestamp(CLOCK.now(), tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _region(arn: str) -> str:
    return arn.split(":")[3]


def unsubscribe_url(subscription_arn: str) -> str:
    query = urlencode({"Action": "Unsubscribe", "SubscriptionArn": subscription_arn})
    return f"{DELIVERY.endpoint_url}/?{query}"


def _attributes_for_envelope(attributes: dict[str, Any] | None) -> dict[str, Any]:
    return {
        name: {"Type": value["Type"], "Value": str(value["Value"])}
        for name, value in (attributes or {}).items()
    }


def notification(
    subscription: Any, message: str, message_id: str, subject: str | None, attributes: Any
) -> dict[str, Any]:
    """The JSON document SNS posts to HTTP endpoints and puts on SQS queues (not raw)."""
    document: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": subscription.topic.arn,
        "Subject": subject or None,
        "Message": message,
        "Timestamp": iso_now(),
        "SignatureVersion": "2",
    }
    document["Signature"] = sign(document)
    document["SigningCertURL"] = f"{DELIVERY.endpoint_url}/_localcloud/sns/{CERT_NAME}"
    document["UnsubscribeURL"] = unsubscribe_url(subscription.arn)
    if document["Subject"] is None:
        del document["Subject"]  # SNS leaves it out when the publisher gave none
    if attributes:
        document["MessageAttributes"] = _attributes_for_envelope(attributes)
    return document


def lambda_event(
    subscription: Any, message: str, message_id: str, subject: str | None, attributes: Any
) -> dict[str, Any]:
    """The event Lambda receives from SNS: its own key spelling (SigningCertUrl), Subject null."""
    envelope = notification(subscription, message, message_id, subject, attributes)
    record = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": subscription.topic.arn,
        "Subject": subject or None,
        "Message": message,
        "Timestamp": envelope["Timestamp"],
        "SignatureVersion": "2",
        "Signature": envelope["Signature"],
        "SigningCertUrl": envelope["SigningCertURL"],
        "UnsubscribeUrl": envelope["UnsubscribeURL"],
        "MessageAttributes": envelope.get("MessageAttributes", {}),
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "Sns": record,
            }
        ]
    }


def is_raw(subscription: Any) -> bool:
    # Subscribe(Attributes=...) stores the string "false", which moto itself reads as raw.
    return str(subscription.attributes.get("RawMessageDelivery", "false")).lower() == "true"


def is_pending(subscription: Any) -> bool:
    return subscription.protocol in CONFIRMED_BY_ENDPOINT and not subscription.confirmed


# -- delivery per protocol ----------------------------------------------------------------


def deliver_sqs(subscription: Any, message: str, message_id: str, args: PublishArgs) -> None:
    from moto.sqs.models import sqs_backends

    queue_arn = subscription.endpoint
    backend = sqs_backends[queue_arn.split(":")[4]][_region(queue_arn)]
    attributes = args.get("message_attributes")
    if is_raw(subscription):
        body, sqs_attributes = message, _sqs_attributes(attributes)
    else:
        document = notification(subscription, message, message_id, args.get("subject"), attributes)
        body, sqs_attributes = json.dumps(document, indent=2), {}
    try:
        backend.send_message(
            queue_arn.split(":")[5],
            body,
            message_attributes=sqs_attributes,
            deduplication_id=args.get("deduplication_id"),
            group_id=args.get("group_id"),
            validate_group_id=False,
        )
    except Exception as error:  # a deleted queue: SNS records the failure and goes on
        DELIVERY.record_failure("sns", subscription.topic.arn, queue_arn, repr(error))


def _sqs_attributes(attributes: dict[str, Any] | None) -> dict[str, Any]:
    converted = {}
    for name, value in (attributes or {}).items():
        kind = "BinaryValue" if value["Type"].startswith("Binary") else "StringValue"
        converted[name] = {"DataType": value["Type"], kind: str(value["Value"])}
    return converted


def deliver_lambda(subscription: Any, message: str, message_id: str, args: PublishArgs) -> None:
    event = lambda_event(
        subscription, message, message_id, args.get("subject"), args.get("message_attributes")
    )
    invoke_function(
        "sns",
        subscription.endpoint,
        json.dumps(event).encode(),
        principal="sns.amazonaws.com",
        source_arn=subscription.topic.arn,
        trace_header=trace_header(),
    )


def deliver_http(subscription: Any, message: str, message_id: str, args: PublishArgs) -> None:
    document = notification(
        subscription, message, message_id, args.get("subject"), args.get("message_attributes")
    )
    body = message if is_raw(subscription) else json.dumps(document, indent=2)
    policy = delivery_policy(subscription)
    headers = _http_headers("Notification", message_id, subscription.topic.arn, policy)
    headers["x-amz-sns-subscription-arn"] = subscription.arn
    if is_raw(subscription):
        headers["x-amz-sns-rawdelivery"] = "true"
    delays = retry_delays(policy)
    schedule_post(subscription.topic.arn, subscription.endpoint, body.encode(), headers, delays)


def _http_headers(
    kind: str, message_id: str, topic_arn: str, policy: dict[str, Any] | None = None
) -> dict[str, str]:
    request_policy = (policy or {}).get("requestPolicy") or {}
    return {
        "Content-Type": str(request_policy.get("headerContentType", "text/plain; charset=UTF-8")),
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    }


def schedule_post(
    topic_arn: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    delays: list[float] | None = None,
) -> None:
    """POST now (a clock job), then retry after each of DELAYS while the endpoint fails."""
    retry_delays = [HTTP_RETRY_DELAY_SECONDS] * HTTP_RETRIES if delays is None else delays

    def attempt(number: int) -> None:
        final = number > len(retry_delays)
        if _post_once(topic_arn, url, body, headers, final=final):
            return
        CLOCK.call_later(
            retry_delays[number - 1], lambda: attempt(number + 1), f"sns http retry {url}"
        )

    CLOCK.call_later(0, lambda: attempt(1), f"sns http delivery {url}")


def delivery_policy(subscription: Any) -> dict[str, Any]:
    """The HTTP delivery policy in force: the subscription's, unless the topic forbids
    overrides, else the topic's http defaults ({} when neither sets one)."""
    topic_policy = _json_object(getattr(subscription.topic, "delivery_policy", "")).get("http", {})
    own = _json_object(subscription.attributes.get("DeliveryPolicy"))
    if own and not topic_policy.get("disableSubscriptionOverrides", False):
        return own
    return {
        "healthyRetryPolicy": topic_policy.get("defaultHealthyRetryPolicy", {}),
        "requestPolicy": topic_policy.get("defaultRequestPolicy", {}),
    }


def _json_object(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        document = json.loads(text or "{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def retry_delays(policy: dict[str, Any]) -> list[float]:
    """Seconds before each retry under a healthyRetryPolicy: the no-delay, minimum-delay,
    backoff and maximum-delay phases, numRetries in all (default: 3, 20 s apart)."""
    retry = policy.get("healthyRetryPolicy") or {}
    total = int(retry.get("numRetries", HTTP_RETRIES))
    low = float(retry.get("minDelayTarget", HTTP_RETRY_DELAY_SECONDS))
    high = float(retry.get("maxDelayTarget", HTTP_RETRY_DELAY_SECONDS))
    immediate = int(retry.get("numNoDelayRetries", 0))
    at_low, at_high = (
        int(retry.get("numMinDelayRetries", 0)),
        int(retry.get("numMaxDelayRetries", 0)),
    )
    backing_off = max(total - immediate - at_low - at_high, 0)
    curve = str(retry.get("backoffFunction", "linear"))
    backoff = [_backoff(step / backing_off, low, high, curve) for step in range(1, backing_off + 1)]
    return ([0.0] * immediate + [low] * at_low + backoff + [high] * at_high)[:total]


def _backoff(progress: float, low: float, high: float, curve: str) -> float:
    # AWS documents the curves' shapes, not their formulas: the ends are exact, the middle close.
    if curve in ("exponential", "geometric") and low > 0:
        return float(low * (high / low) ** progress)
    if curve == "arithmetic":
        return low + (high - low) * progress**2
    return low + (high - low) * progress


def _post_once(topic_arn: str, url: str, body: bytes, headers: dict[str, str], final: bool) -> bool:
    """One POST; True when nothing is left to do (delivered, or failed for good and recorded)."""
    try:
        answer = network.post(url, body, headers)
    except network.NonLoopbackEndpoint as refused:
        DELIVERY.record_failure("sns", topic_arn, url, str(refused))
        return True
    except OSError as error:
        reason = f"could not connect: {error}"
    else:
        if 200 <= answer.status < 300:
            return True
        if answer.status < 500:  # a client error is final: SNS retries only server-side errors
            DELIVERY.record_failure("sns", topic_arn, url, f"HTTP {answer.status}")
            return True
        reason = f"HTTP {answer.status}"
    if final:
        DELIVERY.record_failure("sns", topic_arn, url, f"{reason} (retries exhausted)")
    return final


def deliver_email(subscription: Any, message: str, message_id: str, args: PublishArgs) -> None:
    subject = args.get("subject")
    if subscription.protocol == "email-json":
        document = notification(
            subscription, message, message_id, subject, args.get("message_attributes")
        )
        body = json.dumps(document, indent=2)
    else:
        body = f"{message}\n\n--\n{_unsubscribe_footer(subscription.arn)}"
    DELIVERY.send_email(
        Email(
            to=subscription.endpoint,
            subject=subject or DEFAULT_EMAIL_SUBJECT,
            body=body,
            kind="Notification",
            protocol=subscription.protocol,
            topic_arn=subscription.topic.arn,
            message_id=message_id,
            time=CLOCK.now(),
        )
    )


def _unsubscribe_footer(subscription_arn: str) -> str:
    return (
        "If you wish to stop receiving notifications from this topic, please click or visit "
        f"the link below to unsubscribe:\n{unsubscribe_url(subscription_arn)}"
    )


DELIVERERS: dict[str, Callable[[Any, str, str, PublishArgs], None]] = {
    "sqs": deliver_sqs,
    "lambda": deliver_lambda,
    "http": deliver_http,
    "https": deliver_http,
    "email": deliver_email,
    "email-json": deliver_email,
}


# -- subscription confirmation ---------------------------------------------------------


def confirmation_document(subscription: Any, token: str) -> dict[str, Any]:
    topic_arn = subscription.topic.arn
    subscribe_url = f"{DELIVERY.endpoint_url}/?" + urlencode(
        {"Action": "ConfirmSubscription", "TopicArn": topic_arn, "Token": token}
    )
    document: dict[str, Any] = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": token,
        "TopicArn": topic_arn,
        "Message": (
            f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the "
            "subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": subscribe_url,
        "Timestamp": iso_now(),
        "SignatureVersion": "2",
    }
    document["Signature"] = sign(document)
    document["SigningCertURL"] = f"{DELIVERY.endpoint_url}/_localcloud/sns/{CERT_NAME}"
    return document


def request_confirmation(subscription: Any) -> None:
    """Mark a new http/https/email subscription pending and ask its endpoint to confirm."""
    if DELIVERY.auto_confirm:
        confirm(subscription)
        return
    subscription.confirmed = False
    subscription.attributes["PendingConfirmation"] = "true"
    token = secrets.token_hex(64)
    with DELIVERY.lock:
        DELIVERY.confirmation_tokens[token] = subscription.arn
    document = confirmation_document(subscription, token)
    if subscription.protocol in ("http", "https"):
        headers = _http_headers(
            "SubscriptionConfirmation", document["MessageId"], document["TopicArn"]
        )
        schedule_post(
            document["TopicArn"], subscription.endpoint, json.dumps(document).encode(), headers
        )
    else:
        _email_confirmation(subscription, document)


def _email_confirmation(subscription: Any, document: dict[str, Any]) -> None:
    if subscription.protocol == "email-json":
        body = json.dumps(document, indent=2)
    else:
        body = (
            f"You have chosen to subscribe to the topic:\n{document['TopicArn']}\n\n"
            "To confirm this subscription, click or visit the link below (If this was in "
            f"error no action is necessary):\nConfirm subscription\n{document['SubscribeURL']}"
        )
    DELIVERY.send_email(
        Email(
            to=subscription.endpoint,
            subject="AWS Notification - Subscription Confirmation",
            body=body,
            kind="SubscriptionConfirmation",
            protocol=subscription.protocol,
            topic_arn=document["TopicArn"],
            message_id=document["MessageId"],
            time=CLOCK.now(),
        )
    )


def confirm(subscription: Any) -> None:
    subscription.confirmed = True
    subscription.attributes["PendingConfirmation"] = "false"


def subscription_for_token(topic_arn: str, token: str) -> str | None:
    """The subscription ARN a confirmation token was issued for, if it belongs to TOPIC_ARN."""
    with DELIVERY.lock:
        subscription_arn = DELIVERY.confirmation_tokens.get(token)
    if subscription_arn is None or not subscription_arn.startswith(f"{topic_arn}:"):
        return None
    return subscription_arn
