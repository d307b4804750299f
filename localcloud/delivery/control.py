"""The control endpoint: HTTP routes under /_localcloud/ for other processes (tests, drills).

    GET    /_localcloud/clock                     {"now", "time", "pending": [{"due", "label"}]}
    POST   /_localcloud/clock/advance {"seconds"}  runs everything due; {"now", "time", "failed"}
    GET    /_localcloud/outbox[?to=ADDRESS]        {"messages": [e-mail...]}
    DELETE /_localcloud/outbox[?to=ADDRESS]        {"removed": N}
    GET    /_localcloud/deliveries/failures        {"failures": [...]}
    GET    /_localcloud/sns/auto-confirm           {"enabled": bool}
    POST   /_localcloud/sns/auto-confirm {"enabled": bool}
    GET    /_localcloud/sns/<cert>.pem             the certificate SNS signatures verify with

plus the links SNS puts in its messages (SubscribeURL, UnsubscribeURL): GET
/?Action=ConfirmSubscription&TopicArn=..&Token=.. and /?Action=Unsubscribe&SubscriptionArn=...
Answers are JSON; an error is {"error": CODE, "message": "... names the field and value"}.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from ..clock import CLOCK, ClockError
from .signing import CERT_NAME, certificate_pem
from .state import DELIVERY

PREFIX = "/_localcloud/"
MAX_ADVANCE_SECONDS = 366 * 24 * 3600.0
StartResponse = Callable[..., Any]
Answer = tuple[str, Any]  # (HTTP status, JSON document)


class ControlError(Exception):
    def __init__(self, status: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def handles(environ: dict[str, Any]) -> bool:
    """True for the control routes and for SNS's unsigned confirm/unsubscribe links."""
    path = str(environ.get("PATH_INFO", ""))
    if path.startswith(PREFIX):
        return True
    action = _query(environ).get("Action")
    signed = "HTTP_AUTHORIZATION" in environ
    return path == "/" and not signed and action in ("ConfirmSubscription", "Unsubscribe")


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if not str(environ.get("PATH_INFO", "")).startswith(PREFIX):
        return _sns_link(environ, start_response)
    try:
        if environ["PATH_INFO"] == f"{PREFIX}sns/{CERT_NAME}":
            return _send(start_response, "200 OK", certificate_pem(), "application/x-pem-file")
        status, document = _route(environ)
    except ControlError as error:
        status, document = error.status, {"error": error.code, "message": error.message}
    body = json.dumps(document).encode()
    return _send(start_response, status, body, "application/json")


def _send(
    start_response: StartResponse, status: str, body: bytes, content_type: str
) -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _route(environ: dict[str, Any]) -> Answer:
    method = str(environ.get("REQUEST_METHOD", "GET"))
    route = str(environ["PATH_INFO"])[len(PREFIX) :].rstrip("/")
    handler = ROUTES.get((method, route))
    if handler is None:
        known = sorted({f"{m} {PREFIX}{r}" for m, r in ROUTES})
        raise ControlError(
            "404 Not Found",
            "NotFound",
            f"no control route {method} {PREFIX}{route}; known: {known}",
        )
    return handler(environ)


def _query(environ: dict[str, Any]) -> dict[str, str]:
    parsed = parse_qs(str(environ.get("QUERY_STRING", "")))
    return {key: values[-1] for key, values in parsed.items()}


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        document = json.loads(raw or b"{}")
    except ValueError:
        raise ControlError(
            "400 Bad Request", "InvalidJson", f"body is not JSON: {raw[:80]!r}"
        ) from None
    if not isinstance(document, dict):
        raise ControlError("400 Bad Request", "InvalidJson", "body must be a JSON object")
    return document


def _time_document() -> dict[str, Any]:
    now = CLOCK.now()
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    return {"now": now, "time": moment.isoformat().replace("+00:00", "Z")}


def get_clock(environ: dict[str, Any]) -> Answer:
    pending = [{"due": due, "label": label} for due, label in CLOCK.pending()]
    return "200 OK", {**_time_document(), "pending": pending}


def advance_clock(environ: dict[str, Any]) -> Answer:
    seconds = advance_seconds(_json_body(environ))
    failures_before = len(CLOCK.failures)
    try:
        CLOCK.advance(seconds)
    except ClockError as error:
        raise ControlError("409 Conflict", "ClockBusy", str(error)) from None
    failed = [
        {"label": label, "error": f"{type(error).__name__}: {error}"}
        for label, error in CLOCK.failures[failures_before:]
    ]
    return "200 OK", {**_time_document(), "failed": failed}


def advance_seconds(document: dict[str, Any]) -> float:
    """The "seconds" field: a finite number from 0 to a year, or a ControlError naming it."""
    if "seconds" not in document:
        raise ControlError("400 Bad Request", "MissingField", 'field "seconds" is required')
    seconds = document["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ControlError(
            "400 Bad Request", "InvalidField", f'field "seconds" must be a number, got {seconds!r}'
        )
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_ADVANCE_SECONDS:
        raise ControlError(
            "400 Bad Request",
            "InvalidField",
            f'field "seconds" must be from 0 to {MAX_ADVANCE_SECONDS:g}, got {seconds!r}',
        )
    return float(seconds)


def get_outbox(environ: dict[str, Any]) -> Answer:
    emails = DELIVERY.emails(_query(environ).get("to"))
    return "200 OK", {"messages": [email.as_json() for email in emails]}


def clear_outbox(environ: dict[str, Any]) -> Answer:
    return "200 OK", {"removed": DELIVERY.clear_outbox(_query(environ).get("to"))}


def get_failures(environ: dict[str, Any]) -> Answer:
    with DELIVERY.lock:
        failures = [failure.as_json() for failure in DELIVERY.failures]
    return "200 OK", {"failures": failures}


def get_auto_confirm(environ: dict[str, Any]) -> Answer:
    return "200 OK", {"enabled": DELIVERY.auto_confirm}


def set_auto_confirm(environ: dict[str, Any]) -> Answer:
    enabled = _json_body(environ).get("enabled")
    if not isinstance(enabled, bool):
        raise ControlError(
            "400 Bad Request",
            "InvalidField",
            f'field "enabled" must be true or false, got {enabled!r}',
        )
    DELIVERY.auto_confirm = enabled
    return "200 OK", {"enabled": enabled}


ROUTES: dict[tuple[str, str], Callable[[dict[str, Any]], Answer]] = {
    ("GET", "clock"): get_clock,
    ("POST", "clock/advance"): advance_clock,
    ("GET", "outbox"): get_outbox,
    ("DELETE", "outbox"): clear_outbox,
    ("GET", "deliveries/failures"): get_failures,
    ("GET", "sns/auto-confirm"): get_auto_confirm,
    ("POST", "sns/auto-confirm"): set_auto_confirm,
}


def _sns_link(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """What sns.REGION.amazonaws.com answers when someone follows a SubscribeURL/UnsubscribeURL."""
    from moto.sns.exceptions import SNSInvalidParameter

    from .moto_sns import confirm_by_token, unsubscribe

    query = _query(environ)
    action = query["Action"]
    try:
        if action == "ConfirmSubscription":
            arn = confirm_by_token(query.get("TopicArn", ""), query.get("Token", ""))
            result = f"<SubscriptionArn>{escape(arn)}</SubscriptionArn>"
        else:
            unsubscribe(query.get("SubscriptionArn", ""))
            result = ""
    except SNSInvalidParameter as error:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code>"
            f"<Message>{escape(str(error.message))}</Message></Error></ErrorResponse>"
        ).encode()
        return _send(start_response, "400 Bad Request", body, "text/xml")
    body = (
        f'<{action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        f"<{action}Result>{result}</{action}Result></{action}Response>"
    ).encode()
    return _send(start_response, "200 OK", body, "text/xml")
