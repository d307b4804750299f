"""SNS delivery: SQS envelopes and raw messages, HTTP endpoints with confirmation and retries,
loopback-only HTTP, and the e-mail outbox."""

from __future__ import annotations

import base64
import datetime
import json
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from localcloud.control import ControlClient
from tests.support.http_receiver import HttpReceiver

from .conftest import ConnectGuard

Advance = Callable[[float], float]


def _topic_and_queue(aws: Callable[..., Any], **attributes: str) -> tuple[str, str, str]:
    sns, sqs = aws("sns"), aws("sqs")
    topic_arn = sns.create_topic(Name="oncall")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    subscription_arn = sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes
    )["SubscriptionArn"]
    return topic_arn, queue_url, subscription_arn


def _received(aws: Callable[..., Any], queue_url: str) -> list[dict[str, Any]]:
    answer = aws("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return list(answer.get("Messages", []))


def _iso(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _verify_signature(document: dict[str, Any], signed: list[str]) -> None:
    with urllib.request.urlopen(document["SigningCertURL"]) as answer:  # loopback endpoint
        certificate = x509.load_pem_x509_certificate(answer.read())
    text = "".join(f"{name}\n{document[name]}\n" for name in signed if name in document)
    certificate.public_key().verify(  # type: ignore[union-attr,call-arg]
        base64.b64decode(document["Signature"]),
        text.encode(),
        padding.PKCS1v15(),  # type: ignore[arg-type]
        hashes.SHA256(),  # type: ignore[arg-type]
    )


NOTIFICATION_SIGNED = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]


def test_sqs_gets_the_envelope_aws_sends(aws: Callable[..., Any], localcloud: Any) -> None:
    topic_arn, queue_url, subscription_arn = _topic_and_queue(aws)
    published = aws("sns").publish(
        TopicArn=topic_arn,
        Message="disk full",
        Subject="ALARM",
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "high"}},
    )
    envelope = json.loads(_received(aws, queue_url)[0]["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == topic_arn
    assert (envelope["Subject"], envelope["Message"]) == ("ALARM", "disk full")
    assert envelope["Timestamp"] == _iso(localcloud.now())
    assert envelope["MessageAttributes"] == {"severity": {"Type": "String", "Value": "high"}}
    assert parse_qs(urlsplit(envelope["UnsubscribeURL"]).query)["SubscriptionArn"] == [
        subscription_arn
    ]
    _verify_signature(envelope, NOTIFICATION_SIGNED)


def test_the_envelope_has_no_subject_when_none_was_given(aws: Callable[..., Any]) -> None:
    topic_arn, queue_url, _ = _topic_and_queue(aws)
    aws("sns").publish(TopicArn=topic_arn, Message="plain")
    envelope = json.loads(_received(aws, queue_url)[0]["Body"])
    assert "Subject" not in envelope
    assert "MessageAttributes" not in envelope


def test_raw_delivery_sends_the_message_and_its_attributes(aws: Callable[..., Any]) -> None:
    topic_arn, queue_url, _ = _topic_and_queue(aws, RawMessageDelivery="true")
    aws("sns").publish(
        TopicArn=topic_arn,
        Message='{"raw": true}',
        MessageAttributes={"count": {"DataType": "Number", "StringValue": "3"}},
    )
    message = _received(aws, queue_url)[0]
    assert message["Body"] == '{"raw": true}'
    assert message["MessageAttributes"]["count"] == {"DataType": "Number", "StringValue": "3"}


def test_raw_delivery_false_as_a_string_still_envelopes(aws: Callable[..., Any]) -> None:
    topic_arn, queue_url, _ = _topic_and_queue(aws, RawMessageDelivery="false")
    aws("sns").publish(TopicArn=topic_arn, Message="hello")
    assert json.loads(_received(aws, queue_url)[0]["Body"])["Message"] == "hello"


# -- HTTP endpoints ---------------------------------------------------------------------


def _subscribe_http(aws: Callable[..., Any], url: str) -> tuple[str, str]:
    sns = aws("sns")
    topic_arn = sns.create_topic(Name="hooks")["TopicArn"]
    answer = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=url)
    return topic_arn, answer["SubscriptionArn"]


def test_an_http_subscription_waits_for_confirmation(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance
) -> None:
    topic_arn, answered = _subscribe_http(aws, f"{receiver.url}/hook")
    assert answered == "pending confirmation"
    assert receiver.requests == []  # a clock job: nothing happens before the clock moves
    advance(0)
    [request] = receiver.requests
    document = request.json()
    assert request.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert document["Type"] == "SubscriptionConfirmation"
    assert document["TopicArn"] == topic_arn
    assert f"Token={document['Token']}" in document["SubscribeURL"]
    _verify_signature(
        document,
        ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    )
    aws("sns").publish(TopicArn=topic_arn, Message="before confirming")
    advance(0)
    assert len(receiver.requests) == 1


def _confirmed_http(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance, path: str = "/hook"
) -> tuple[str, str]:
    topic_arn, _ = _subscribe_http(aws, f"{receiver.url}{path}")
    advance(0)
    token = receiver.requests[-1].json()["Token"]
    subscription_arn = aws("sns").confirm_subscription(TopicArn=topic_arn, Token=token)[
        "SubscriptionArn"
    ]
    return topic_arn, subscription_arn


def test_a_confirmed_http_endpoint_gets_notifications(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance
) -> None:
    topic_arn, subscription_arn = _confirmed_http(aws, receiver, advance)
    attributes = aws("sns").get_subscription_attributes(SubscriptionArn=subscription_arn)
    assert attributes["Attributes"]["PendingConfirmation"] == "false"
    aws("sns").publish(TopicArn=topic_arn, Message="alarm!", Subject="ALARM")
    advance(0)
    request = receiver.requests[-1]
    assert request.path == "/hook"
    assert request.headers["x-amz-sns-message-type"] == "Notification"
    assert request.headers["x-amz-sns-subscription-arn"] == subscription_arn
    assert request.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert (request.json()["Message"], request.json()["Subject"]) == ("alarm!", "ALARM")


def test_following_the_subscribe_url_confirms(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance
) -> None:
    topic_arn, _ = _subscribe_http(aws, f"{receiver.url}/hook")
    advance(0)
    with urllib.request.urlopen(receiver.requests[0].json()["SubscribeURL"]) as answer:
        assert b"<SubscriptionArn>" in answer.read()
    aws("sns").publish(TopicArn=topic_arn, Message="after the link")
    advance(0)
    assert receiver.requests[-1].json()["Message"] == "after the link"


def test_a_pending_subscription_is_listed_as_pending_confirmation(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance
) -> None:
    topic_arn, _ = _subscribe_http(aws, f"{receiver.url}/hook")
    listed = aws("sns").list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    advance(0)
    token = receiver.requests[0].json()["Token"]
    arn = aws("sns").confirm_subscription(TopicArn=topic_arn, Token=token)["SubscriptionArn"]
    assert [s["SubscriptionArn"] for s in aws("sns").list_subscriptions()["Subscriptions"]] == [arn]


def test_a_wrong_token_is_refused(aws: Callable[..., Any], receiver: HttpReceiver) -> None:
    topic_arn, _ = _subscribe_http(aws, f"{receiver.url}/hook")
    with pytest.raises(ClientError) as caught:
        aws("sns").confirm_subscription(TopicArn=topic_arn, Token="not-the-token")
    assert caught.value.response["Error"]["Code"] == "InvalidParameter"


def test_a_server_error_is_retried_20_seconds_later(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance
) -> None:
    topic_arn, _ = _confirmed_http(aws, receiver, advance)
    receiver.script(status=500)
    aws("sns").publish(TopicArn=topic_arn, Message="try again")
    advance(0)
    assert len(receiver.requests) == 2
    advance(19)
    assert len(receiver.requests) == 2
    advance(1)
    assert len(receiver.requests) == 3
    assert receiver.requests[-1].json()["Message"] == "try again"


def test_a_client_error_is_not_retried_and_is_recorded(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance, control: ControlClient
) -> None:
    topic_arn, _ = _confirmed_http(aws, receiver, advance)
    receiver.script(status=404)
    aws("sns").publish(TopicArn=topic_arn, Message="gone")
    advance(300)
    assert len(receiver.requests) == 2
    [failure] = control.delivery_failures()
    assert (failure["service"], failure["reason"]) == ("sns", "HTTP 404")


def test_retries_end_after_three_and_are_recorded(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance, control: ControlClient
) -> None:
    topic_arn, _ = _confirmed_http(aws, receiver, advance)
    receiver.default.status = 503
    aws("sns").publish(TopicArn=topic_arn, Message="down")
    advance(3600)
    assert len(receiver.requests) == 1 + 4  # confirmation, then the attempt and 3 retries
    assert "retries exhausted" in control.delivery_failures()[0]["reason"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.0.0.8/hook",
        "https://hooks.example.com/services/x",
        "http://169.254.169.254/latest",
        "http://[2001:db8::1]:8080/",
        "http://[::ffff:10.0.0.1]/",
    ],
)
def test_a_non_loopback_endpoint_is_never_contacted(
    endpoint: str,
    aws: Callable[..., Any],
    advance: Advance,
    control: ControlClient,
    connect_guard: ConnectGuard,
) -> None:
    control.set_auto_confirm(True)  # so the notification itself is attempted too
    topic_arn, _ = _subscribe_http(aws, endpoint)
    aws("sns").publish(TopicArn=topic_arn, Message="must not leave the machine")
    advance(600)
    assert connect_guard.attempts == []
    [failure] = control.delivery_failures()
    assert failure["target"] == endpoint
    assert "loopback" in failure["reason"]


# -- e-mail -----------------------------------------------------------------------------


def _subscribe_email(aws: Callable[..., Any], protocol: str = "email") -> str:
    sns = aws("sns")
    topic_arn = str(sns.create_topic(Name="alerts")["TopicArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint="oncall@example.com")
    return topic_arn


def test_an_email_subscription_gets_a_confirmation_mail_first(
    aws: Callable[..., Any], control: ControlClient
) -> None:
    topic_arn = _subscribe_email(aws)
    aws("sns").publish(TopicArn=topic_arn, Message="not yet")
    [mail] = control.outbox(to="oncall@example.com")
    assert mail["kind"] == "SubscriptionConfirmation"
    assert mail["subject"] == "AWS Notification - Subscription Confirmation"
    link = mail["body"].rsplit("\n", 1)[-1]
    with urllib.request.urlopen(link) as answer:
        assert answer.status == 200
    aws("sns").publish(TopicArn=topic_arn, Message="disk full", Subject="ALARM: disk")
    notification = control.outbox(to="oncall@example.com")[-1]
    assert (notification["kind"], notification["subject"]) == ("Notification", "ALARM: disk")
    assert notification["body"].startswith("disk full\n")


@pytest.mark.parametrize("protocol", ["email", "email-json"])
def test_the_client_confirms_what_the_outbox_asks_to(
    aws: Callable[..., Any], control: ControlClient, protocol: str
) -> None:
    topic_arn = _subscribe_email(aws, protocol)
    assert control.confirm_subscriptions(to="oncall@example.com") == 1
    [listed] = aws("sns").list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert listed["SubscriptionArn"].startswith(f"{topic_arn}:")
    aws("sns").publish(TopicArn=topic_arn, Message="now it arrives")
    assert control.outbox()[-1]["kind"] == "Notification"


def test_links_still_work_after_another_local_cloud_stopped(
    aws: Callable[..., Any], control: ControlClient
) -> None:
    from localcloud.server import LocalCloud

    other = LocalCloud()
    other.start()  # shares this process's state (and resets it, as documented)
    other.stop()
    _subscribe_email(aws)
    assert control.confirm_subscriptions() == 1  # the link names the server still running


def test_email_json_gets_the_json_document(aws: Callable[..., Any], control: ControlClient) -> None:
    control.set_auto_confirm(True)
    topic_arn = _subscribe_email(aws, "email-json")
    aws("sns").publish(TopicArn=topic_arn, Message="m1")
    [mail] = control.outbox()
    assert mail["subject"] == "AWS Notification Message"
    assert json.loads(mail["body"])["Message"] == "m1"


def test_auto_confirm_skips_the_round_trip(
    aws: Callable[..., Any], control: ControlClient, receiver: HttpReceiver, advance: Advance
) -> None:
    control.set_auto_confirm(True)
    topic_arn, answered = _subscribe_http(aws, f"{receiver.url}/hook")
    assert answered.startswith(topic_arn)
    aws("sns").publish(TopicArn=topic_arn, Message="straight in")
    advance(0)
    [request] = receiver.requests
    assert request.json()["Message"] == "straight in"


def test_the_outbox_filters_by_address_and_clears(
    aws: Callable[..., Any], control: ControlClient
) -> None:
    control.set_auto_confirm(True)
    sns = aws("sns")
    topic_arn = sns.create_topic(Name="two")["TopicArn"]
    for address in ("a@example.com", "b@example.com"):
        sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=address)
    sns.publish(TopicArn=topic_arn, Message="both")
    assert [m["to"] for m in control.outbox(to="B@example.com")] == ["b@example.com"]
    assert control.clear_outbox(to="a@example.com") == 1
    assert [m["to"] for m in control.outbox()] == ["b@example.com"]
    assert control.clear_outbox() == 1
    assert control.outbox() == []


def _self_signed_files(directory: Any) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=36500))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_an_https_endpoint_on_loopback_gets_notifications(
    aws: Callable[..., Any], control: ControlClient, advance: Advance, tmp_path: Any
) -> None:
    import ssl

    receiver = HttpReceiver()
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*_self_signed_files(tmp_path))
        server = receiver._server
        server.socket = context.wrap_socket(server.socket, server_side=True)
        control.set_auto_confirm(True)
        sns = aws("sns")
        topic_arn = sns.create_topic(Name="secure")["TopicArn"]
        sns.subscribe(
            TopicArn=topic_arn, Protocol="https", Endpoint=f"https://127.0.0.1:{receiver.port}/in"
        )
        sns.publish(TopicArn=topic_arn, Message="over tls")
        advance(0)
        assert [r.json()["Message"] for r in receiver.requests] == ["over tls"]
    finally:
        receiver.close()


def test_a_subscription_delivery_policy_sets_retries_and_content_type(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance, control: ControlClient
) -> None:
    topic_arn, subscription_arn = _confirmed_http(aws, receiver, advance)
    policy = {
        "healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 5, "maxDelayTarget": 5},
        "requestPolicy": {"headerContentType": "application/json"},
    }
    aws("sns").set_subscription_attributes(
        SubscriptionArn=subscription_arn,
        AttributeName="DeliveryPolicy",
        AttributeValue=json.dumps(policy),
    )
    receiver.default.status = 500
    aws("sns").publish(TopicArn=topic_arn, Message="policy")
    advance(4)
    assert len(receiver.requests) == 1 + 1
    advance(1)
    assert len(receiver.requests) == 1 + 2
    advance(100)
    assert len(receiver.requests) == 1 + 3  # the attempt and 2 retries
    assert receiver.requests[-1].headers["Content-Type"] == "application/json"
    assert "retries exhausted" in control.delivery_failures()[0]["reason"]


def test_a_topic_delivery_policy_applies_to_its_http_subscriptions(
    aws: Callable[..., Any], receiver: HttpReceiver, advance: Advance
) -> None:
    topic_arn, _ = _confirmed_http(aws, receiver, advance)
    policy = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 0}}}
    aws("sns").set_topic_attributes(
        TopicArn=topic_arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy)
    )
    receiver.default.status = 503
    aws("sns").publish(TopicArn=topic_arn, Message="once")
    advance(3600)
    assert len(receiver.requests) == 1 + 1


def test_retry_phases_follow_the_policy() -> None:
    from localcloud.delivery.sns import retry_delays

    policy = {
        "healthyRetryPolicy": {
            "numRetries": 10,
            "numNoDelayRetries": 2,
            "numMinDelayRetries": 1,
            "numMaxDelayRetries": 2,
            "minDelayTarget": 1,
            "maxDelayTarget": 16,
            "backoffFunction": "exponential",
        }
    }
    delays = retry_delays(policy)
    assert delays[:3] == [0.0, 0.0, 1.0]
    assert delays[-3:] == [16.0, 16.0, 16.0]  # the backoff ends at the maximum
    assert delays[3:7] == sorted(delays[3:7]) and 1 < delays[3] < delays[6] < 16
    assert len(delays) == 10
    assert retry_delays({}) == [20.0, 20.0, 20.0]
