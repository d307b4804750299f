"""What event delivery keeps between calls: the e-mail outbox, failed deliveries, pending
subscription confirmations and the switches. Cleared by `reset()` (with the rest of the state),
except the switches, which belong to the running server."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from ..clock import CLOCK


@dataclass(frozen=True)
class Email:
    """One message SNS sent to an e-mail or e-mail-json subscription (the on-call inbox)."""

    to: str
    subject: str
    body: str
    kind: str  # "Notification" or "SubscriptionConfirmation"
    protocol: str  # "email" or "email-json"
    topic_arn: str
    message_id: str
    time: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DeliveryFailure:
    """A delivery a service gave up on (AWS records these as failed-delivery metrics/logs)."""

    service: str  # sns, events, logs, s3
    source: str  # the topic, rule, log group or bucket ARN
    target: str  # the endpoint, function, queue or topic
    reason: str
    time: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeliveryState:
    outbox: list[Email] = field(default_factory=list)
    failures: list[DeliveryFailure] = field(default_factory=list)
    confirmation_tokens: dict[str, str] = field(default_factory=dict)  # token -> subscription
    # Servers of this process, newest last (several LocalClouds share one state): SNS links
    # point at the newest still running.
    live_endpoints: list[str] = field(default_factory=list)
    auto_confirm: bool = False  # confirm http/https/email subscriptions without the round trip
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint_url(self) -> str:
        return self.live_endpoints[-1] if self.live_endpoints else "http://127.0.0.1:4566"

    def send_email(self, email: Email) -> None:
        with self.lock:
            self.outbox.append(email)

    def emails(self, to: str | None = None) -> list[Email]:
        with self.lock:
            return [e for e in self.outbox if to is None or e.to.lower() == to.lower()]

    def clear_outbox(self, to: str | None = None) -> int:
        with self.lock:
            kept = [e for e in self.outbox if to is not None and e.to.lower() != to.lower()]
            removed = len(self.outbox) - len(kept)
            self.outbox = kept
            return removed

    def record_failure(self, service: str, source: str, target: str, reason: str) -> None:
        failure = DeliveryFailure(service, source, target, reason, CLOCK.now())
        with self.lock:
            self.failures.append(failure)

    def reset(self) -> None:
        with self.lock:
            self.outbox.clear()
            self.failures.clear()
            self.confirmation_tokens.clear()


DELIVERY = DeliveryState()
