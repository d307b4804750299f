"""moto's SNS, re-wired: delivery through `sns.py`, confirmation of endpoint subscriptions."""

from __future__ import annotations

from typing import Any

from . import sns

_installed = False


def patch(owner: Any, name: str, replacement: Any) -> None:
    setattr(owner, name, replacement)


def install() -> None:
    global _installed  # noqa: PLW0603 - moto's classes are patched once per process
    if _installed:
        return
    from moto.sns.models import SNSBackend, Subscription
    from moto.sns.responses import SNSResponse

    patch(Subscription, "publish", _publishing(Subscription.publish))
    # List(Subscriptions|SubscriptionsByTopic) serialize this before `arn`: AWS lists a pending
    # subscription as "PendingConfirmation".
    patch(Subscription, "SubscriptionArn", property(_listed_arn))
    patch(SNSBackend, "subscribe", _subscribing(SNSBackend.subscribe))
    patch(SNSResponse, "subscribe", _answering_pending(SNSResponse.subscribe))
    patch(SNSResponse, "confirm_subscription", confirm_subscription_response)
    _installed = True


def _publishing(original: Any) -> Any:
    def publish(self: Any, message: str, message_id: str, **args: Any) -> None:
        if self.protocol not in sns.DELIVERERS:
            original(self, message, message_id, **args)
            return
        if sns.is_pending(self):
            return  # an unconfirmed endpoint gets nothing, as on AWS
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(args.get("message_attributes"), message):
            return
        if args.get("message_structure") == "json":
            message = self._parse_message_structure(message, self.protocol)
        sns.DELIVERERS[self.protocol](self, message, message_id, args)

    return publish


def _subscribing(original: Any) -> Any:
    def subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
        existing = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = original(self, topic_arn, endpoint, protocol)
        if existing is None:
            if protocol in sns.CONFIRMED_BY_ENDPOINT:
                sns.request_confirmation(subscription)
            else:
                sns.confirm(subscription)
        return subscription

    return subscribe


def _answering_pending(original: Any) -> Any:
    """Subscribe answers "pending confirmation" unless ReturnSubscriptionArn is true (as SNS)."""

    def subscribe_response(self: Any) -> Any:
        from moto.core.responses import ActionResult

        result: Any = original(self)
        subscription = self.backend.subscriptions.get(result.result["SubscriptionArn"])
        wants_arn = str(self._get_param("ReturnSubscriptionArn", "false")).lower() == "true"
        if subscription is not None and sns.is_pending(subscription) and not wants_arn:
            return ActionResult({"SubscriptionArn": "pending confirmation"})
        return result

    return subscribe_response


def _listed_arn(subscription: Any) -> str:
    return "PendingConfirmation" if sns.is_pending(subscription) else str(subscription.arn)


def confirm_subscription_response(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.sns.exceptions import SNSNotFoundError

    topic_arn = self._get_param("TopicArn")
    if topic_arn not in self.backend.topics:
        raise SNSNotFoundError("Topic does not exist")
    return ActionResult({"SubscriptionArn": confirm_by_token(topic_arn, self._get_param("Token"))})


def confirm_by_token(topic_arn: str, token: str) -> str:
    """Confirm the subscription TOKEN was issued for; its ARN, or SNS's InvalidParameter."""
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import sns_backends

    subscription_arn = sns.subscription_for_token(topic_arn, token or "")
    parts = topic_arn.split(":")
    subscription = (
        sns_backends[parts[4]][parts[3]].subscriptions.get(subscription_arn)
        if subscription_arn
        else None
    )
    if subscription is None:
        raise SNSInvalidParameter("Invalid parameter: Token")
    sns.confirm(subscription)
    return str(subscription.arn)


def unsubscribe(subscription_arn: str) -> None:
    """Follow an UnsubscribeURL: remove the subscription (a malformed ARN: InvalidParameter)."""
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import sns_backends

    parts = subscription_arn.split(":")
    if len(parts) != 7 or parts[2] != "sns":
        raise SNSInvalidParameter("Invalid parameter: SubscriptionArn")
    sns_backends[parts[4]][parts[3]].unsubscribe(subscription_arn)
