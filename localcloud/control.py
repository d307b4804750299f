"""A small client for localcloud's control endpoint, for other processes (tests, `build.py
drill`) that talk to a running local cloud over HTTP.

    client = ControlClient("http://127.0.0.1:4566")
    client.advance(300)                          # runs everything due in the next 5 minutes
    client.outbox(to="oncall@example.com")       # what SNS e-mailed that address
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from .delivery.network import loopback_address
from .errors import LocalCloudError


class ControlError(LocalCloudError):
    """The control endpoint refused a request (its message names the field and value)."""


class ControlClient:
    def __init__(self, endpoint_url: str, timeout: float = 60.0) -> None:
        loopback_address(endpoint_url)  # the project's rule: only this machine, checked first
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def now(self) -> float:
        return float(self._call("GET", "clock")["now"])

    def clock(self) -> dict[str, Any]:
        """{"now", "time", "pending": [{"due", "label"}]}."""
        clock: dict[str, Any] = self._call("GET", "clock")
        return clock

    def advance(self, seconds: float) -> float:
        """Move the server's clock forward, running everything due; returns the new now."""
        return float(self._call("POST", "clock/advance", {"seconds": seconds})["now"])

    def outbox(self, to: str | None = None) -> list[dict[str, Any]]:
        """E-mails SNS sent (to one address, or all), oldest first."""
        query = f"?{urlencode({'to': to})}" if to else ""
        return list(self._call("GET", f"outbox{query}")["messages"])

    def clear_outbox(self, to: str | None = None) -> int:
        query = f"?{urlencode({'to': to})}" if to else ""
        return int(self._call("DELETE", f"outbox{query}")["removed"])

    def confirm_subscriptions(self, to: str | None = None) -> int:
        """Follow the SubscribeURL of every confirmation mail in the outbox (to one address or
        all), as the on-call person clicking the link would; how many were confirmed."""
        confirmed = 0
        for mail in self.outbox(to):
            if mail["kind"] == "SubscriptionConfirmation":
                self._follow(_subscribe_url(mail))
                confirmed += 1
        return confirmed

    def _follow(self, url: str) -> None:
        loopback_address(url)
        try:
            with urllib.request.urlopen(url, timeout=self.timeout):  # noqa: S310 - checked above
                pass
        except urllib.error.HTTPError as error:
            raise ControlError(f"GET {url}: HTTP {error.code}") from None

    def delivery_failures(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "deliveries/failures")["failures"])

    def set_auto_confirm(self, enabled: bool) -> None:
        self._call("POST", "sns/auto-confirm", {"enabled": enabled})

    def _call(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL, checked above
            f"{self.endpoint_url}/_localcloud/{route}", data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            document = json.loads(error.read() or b"{}")
            raise ControlError(
                f"{method} /_localcloud/{route}: {document.get('message', error.reason)}"
            ) from None
        except urllib.error.URLError as error:
            raise ControlError(
                f"cannot reach the local cloud at {self.endpoint_url} ({error.reason}): "
                "is `python build.py local` running there?"
            ) from None


def _subscribe_url(mail: dict[str, Any]) -> str:
    if mail["protocol"] == "email-json":
        return str(json.loads(mail["body"])["SubscribeURL"])
    return str(mail["body"]).rsplit("\n", 1)[-1]  # the link is the mail's last line
